/**
 * The exact encoding of a job's data: every value a JobState holds is saved
 * so that it loads back equal (Map, Set, Date, BigInt, typed arrays,
 * `undefined`, -0, NaN, sparse arrays, null-prototype objects, shared and
 * cyclic references), or saving fails naming the path of the value.
 *
 * @module
 */
import { DevalueError, stringify, unflatten } from "npm:devalue@^6.0.3";
import { describeValue } from "../core/describe.ts";

/** What a JobState keeps exactly, for error messages. */
const KEPT =
  "what a JobState keeps exactly (plain objects and arrays, Map, Set, Date, RegExp, URL, BigInt, typed arrays, ArrayBuffer, undefined)";

/**
 * Thrown by `JobState.save()` and `toJSON()` for a value the job cannot
 * keep exactly; the file is left as it was.
 *
 * @example A function in shared data
 * ```ts
 * import { JobState, JobStateSaveError } from "@switchyard/core";
 * import assert from "node:assert/strict";
 *
 * const job = new JobState("reports", { jobId: "j1" });
 * job.updateSharedData("report", { rows: [1, 2], onDone: () => {} });
 * assert.throws(
 *   () => job.toJSON(),
 *   (error) => error instanceof JobStateSaveError && error.path === 'sharedData.get("report").onDone',
 * );
 * ```
 */
export class JobStateSaveError extends TypeError {
  /** Always `"JobStateSaveError"`. */
  override name: string = "JobStateSaveError";
  /** Where the value is, e.g. `sharedData.get("report").rows[3]`. */
  readonly path: string;

  /**
   * Makes a JobStateSaveError.
   *
   * @param path Where the value is.
   * @param message What is wrong.
   * @param options The underlying error.
   */
  constructor(path: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.path = path;
  }
}

const isObject = (value: unknown): value is object => typeof value === "object" && value !== null;

// devalue refuses own "__proto__" keys (JSON.parse makes them); these
// objects travel as their entries and are rebuilt without assignment.
const REDUCERS = {
  InvalidDate: (value: unknown) => value instanceof Date && Number.isNaN(value.getTime()) && 1,
  ProtoKey: (value: unknown) =>
    isObject(value) && !Array.isArray(value) && Object.hasOwn(value, "__proto__") &&
    [Object.getPrototypeOf(value) === null, Object.entries(value)],
};

const REVIVERS = {
  InvalidDate: () => new Date(NaN),
  ProtoKey: ([nullProto, entries]: [boolean, [string, unknown][]]) => {
    const out = nullProto ? Object.create(null) : {};
    for (const [key, value] of entries) {
      Object.defineProperty(out, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  },
};

/**
 * Encodes a job's data as JSON data (devalue's flattened form).
 *
 * @param jobId The job, for error messages.
 * @param data What to encode.
 * @returns JSON data that {@linkcode decodeJobData} turns back into an equal value.
 * @throws {JobStateSaveError} Naming the path of the first value it cannot keep.
 */
export function encodeJobData(jobId: string, data: Record<string, unknown>): unknown {
  let text: string;
  try {
    text = stringify(data, REDUCERS);
  } catch (error) {
    throw saveError(jobId, data, error);
  }
  return JSON.parse(text);
}

/**
 * Decodes what {@linkcode encodeJobData} returned.
 *
 * @param encoded The encoded data.
 * @returns The data.
 * @throws {Error} If it is not such an encoding.
 */
export function decodeJobData(encoded: unknown): unknown {
  return unflatten(encoded as number | unknown[], REVIVERS);
}

function saveError(jobId: string, data: unknown, error: unknown): JobStateSaveError {
  const what = `Cannot save job '${jobId}' as`;
  if (error instanceof DevalueError) {
    const path = error.path.replace(/^\./, "");
    return new JobStateSaveError(
      path,
      `${what} '${path}' must be ${KEPT}: current value is ${
        describeValue(error.value, 80)
      } (${error.message})`,
      { cause: error },
    );
  }
  // A read that threw (a getter, a proxy trap, a revoked proxy) or data
  // nested deeper than the stack allows: find where.
  const found = findUnreadable(data);
  if (found.kind === "unreadable") {
    return new JobStateSaveError(
      found.path,
      `${what} '${found.path}' must be readable: reading it threw ${
        describeValue(found.error, 80)
      }`,
      { cause: error },
    );
  }
  if (found.kind === "deep") {
    return new JobStateSaveError(
      found.path,
      `${what} '${found.path}' must be nested less deeply: it goes ${found.depth}+ levels down (${
        describeValue(error, 80)
      })`,
      { cause: error },
    );
  }
  return new JobStateSaveError(
    "",
    `${what} its data could not be encoded: ${describeValue(error, 80)}`,
    { cause: error },
  );
}

const DEEP = 1000;

type Found =
  | { kind: "unreadable"; path: string; error: unknown }
  | { kind: "deep"; path: string; depth: number }
  | { kind: "none" };

/** Walks the data the way the encoder does, without recursion. */
function findUnreadable(data: unknown): Found {
  const stack: { value: unknown; path: string; depth: number; top: string }[] = [
    { value: data, path: "", depth: 0, top: "" },
  ];
  const seen = new Set<unknown>();
  let deepest: Found = { kind: "none" };
  while (stack.length > 0) {
    const { value, path, depth, top } = stack.pop()!;
    if (!isObject(value) && typeof value !== "function") continue;
    if (seen.has(value)) continue;
    seen.add(value);
    if (depth > DEEP && deepest.kind === "none") {
      deepest = { kind: "deep", path: top, depth: DEEP };
      continue;
    }
    let children: Child[];
    try {
      children = childrenOf(value, path);
    } catch (error) {
      return { kind: "unreadable", path: path || "(root)", error };
    }
    for (const [childPath, child, failed] of children) {
      if (failed) return { kind: "unreadable", path: childPath, error: child };
      stack.push({
        value: child,
        path: childPath,
        depth: depth + 1,
        // The entry holding the value: `sharedData.get("k")`, `history[2]`, …
        top: depth < 2 ? childPath : top,
      });
    }
  }
  return deepest;
}

/** A child's path, and its value or (when `failed`) what reading it threw. */
type Child = [path: string, value: unknown, failed?: true];

function childrenOf(value: object, path: string): Child[] {
  // Each check may run a proxy trap: a throw here names this value.
  if (value instanceof Date) return [];
  if (value instanceof Map) {
    return [...value].map(([k, v]): Child => [`${path}.get(${keyText(k)})`, v]);
  }
  if (value instanceof Set) return [...value].map((v, i): Child => [`${path}[set ${i}]`, v]);
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return [];
  const keys = Object.keys(value);
  return keys.map((key): Child => {
    const childPath = Array.isArray(value) && /^\d+$/.test(key)
      ? `${path}[${key}]`
      : /^[A-Za-z_$][\w$]*$/.test(key)
      ? `${path}${path ? "." : ""}${key}`
      : `${path}[${JSON.stringify(key)}]`;
    try {
      return [childPath, (value as Record<string, unknown>)[key]];
    } catch (error) {
      return [childPath, error, true];
    }
  });
}

function keyText(key: unknown): string {
  return typeof key === "string" ? JSON.stringify(key) : describeValue(key, 40);
}
