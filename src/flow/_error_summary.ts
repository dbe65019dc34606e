/**
 * The name and message of a failure, as the flow's bookkeeping keeps them.
 *
 * @module
 */

/**
 * Reads an error's name and message. The error may be hostile (a throwing
 * getter, a revoked proxy): reading it never throws.
 *
 * @param error What was thrown.
 * @returns Its name and message.
 */
export function errorSummary(error: unknown): { name: string; message: string } {
  try {
    return error instanceof Error
      ? { name: String(error.name), message: String(error.message) }
      : { name: "Error", message: String(error) };
  } catch {
    return { name: "Error", message: "(an error that cannot be read)" };
  }
}
