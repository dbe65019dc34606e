/**
 * The shape check of a saved snapshot: what the loader, the summaries and
 * the request rows read, so a damaged file fails with a clear error instead
 * of a crash deep in a reader (or, in a list, a failure of every run).
 *
 * @module
 */

const STATUSES = new Set(["Open", "Completed", "Failed", "Cancelled"]);

type Check = (value: unknown, at: string) => string | null;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const string: Check = (v, at) => typeof v === "string" ? null : `${at} must be a string`;
const number: Check = (v, at) => typeof v === "number" ? null : `${at} must be a number`;
const orNull = (check: Check): Check => (v, at) => v === null ? null : check(v, at);
const status: Check = (v, at) => STATUSES.has(v as string) ? null : `${at} must be a status`;

function fields(shape: Record<string, Check>): Check {
  return (value, at) => {
    if (!isObject(value)) return `${at} must be an object`;
    for (const [key, check] of Object.entries(shape)) {
      const problem = check(value[key], `${at}.${key}`);
      if (problem) return problem;
    }
    return null;
  };
}

function list(check: Check): Check {
  return (value, at) => {
    if (!Array.isArray(value)) return `${at} must be an array`;
    for (let i = 0; i < value.length; i++) {
      const problem = check(value[i], `${at}[${i}]`);
      if (problem) return problem;
    }
    return null;
  };
}

/** A versioned record: its fields, then each older version's, iteratively. */
function versioned(shape: Record<string, Check>): Check {
  const own = fields(shape);
  return (value, at) => {
    let version = value;
    let path = at;
    while (true) {
      const problem = own(version, path);
      if (problem) return problem;
      version = (version as Record<string, unknown>).parent ?? null;
      if (version === null) return null;
      path += ".parent";
    }
  };
}

const stamp = fields({ time: number, step: number });
const vertex = versioned({ identifier: string, nodeType: string, name: string, stamp });
const edge = versioned({
  identifier: string,
  source: orNull(string),
  target: string,
  stamp,
  details: fields({ inputArgs: list(() => null), status }),
});
const run = fields({
  name: string,
  runId: string,
  status,
  startTime: number,
  endTime: orNull(number),
  nodes: list(vertex),
  edges: list(edge),
  steps: list(stamp),
});
const snapshot = fields({
  runId: string,
  name: string,
  status,
  startTime: orNull(number),
  endTime: orNull(number),
  savedAt: number,
  runs: list(run),
});

/**
 * What is wrong with a parsed snapshot's shape, or `null` if nothing is.
 *
 * @param value The parsed JSON (its `format` already checked).
 * @returns The first problem, naming where it is (`snapshot.runs[0].edges[2].target`).
 */
export function snapshotProblem(value: unknown): string | null {
  return snapshot(value, "snapshot");
}
