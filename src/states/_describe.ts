/**
 * Values as error messages show them.
 *
 * @module
 */

/**
 * A short, readable form of any value for an error message.
 *
 * @param value Anything.
 * @returns `"text"` for strings, `[Function: name]`, `an array of 3`,
 *   `[object Class]`, or `String(value)`.
 */
export function describe(value: unknown): string {
  if (typeof value === "function") {
    return `[Function: ${value.name || "anonymous"}]`;
  }
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || typeof value !== "object") return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return `[object ${value.constructor?.name ?? "Object"}]`;
}

/**
 * A configuration value for an error message: JSON where it can be.
 *
 * @param value A setting's value.
 * @returns Its JSON, or a readable placeholder.
 */
export function describeSetting(value: unknown): string {
  if (typeof value === "function") {
    return `[Function: ${value.name || "anonymous"}]`;
  }
  if (value === undefined) return "undefined";
  if (typeof value === "object" && value !== null) {
    try {
      return JSON.stringify(value);
    } catch {
      return `[object ${value.constructor?.name ?? "Object"}]`;
    }
  }
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}
