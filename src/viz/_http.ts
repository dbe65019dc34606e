/**
 * Responses of the visualizer: security headers on every one, JSON bodies
 * and `{ "error": … }` problems.
 *
 * @module
 */
import { safeStringify } from "../core/json_safe.ts";

const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "content-security-policy":
    "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
};

/**
 * A response with the security headers.
 *
 * @param body The body.
 * @param status The status.
 * @param type The media type.
 * @param extra More headers.
 * @returns The response.
 */
export function respond(
  body: BodyInit | null,
  status: number,
  type: string,
  extra: Record<string, string> = {},
): Response {
  return new Response(body, {
    status,
    headers: { ...SECURITY_HEADERS, "content-type": type, ...extra },
  });
}

/**
 * A JSON response that is never cached.
 *
 * @param value The body.
 * @param status The status.
 * @param extra More headers.
 * @returns The response.
 */
export function json(value: unknown, status = 200, extra: Record<string, string> = {}): Response {
  return respond(safeStringify(value), status, "application/json; charset=utf-8", {
    "cache-control": "no-store",
    ...extra,
  });
}

/**
 * An error answer: `{ "error": message }`.
 *
 * @param status The status.
 * @param message What was wrong, naming the thing and the value.
 * @param extra More headers.
 * @returns The response.
 */
export function problem(
  status: number,
  message: string,
  extra: Record<string, string> = {},
): Response {
  return json({ error: message }, status, extra);
}
