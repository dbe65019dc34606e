import assert from "node:assert/strict";
import fc from "fast-check";
import { JobState, JobStateSaveError } from "../mod.ts";

/** Every kind of value a JobState must keep exactly. */
const value = fc.anything({
  withBigInt: true,
  withMap: true,
  withSet: true,
  withDate: true,
  withTypedArray: true,
  withSparseArray: true,
  withNullPrototype: true,
  maxDepth: 3,
  key: fc.oneof(fc.string(), fc.constantFrom("__proto__", "constructor", "toString", "")),
});

function nest(levels: number, leaf: unknown): unknown {
  let out = leaf;
  for (let i = 0; i < levels; i++) out = i % 2 ? { [`k${i}`]: out } : [out, i];
  return out;
}

Deno.test("JobState save → load keeps every value exactly (property)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-exact-" });
  let n = 0;
  try {
    await fc.assert(
      fc.asyncProperty(
        value,
        value,
        fc.integer({ min: 0, max: 120 }),
        fc.dictionary(fc.string(), value, { maxKeys: 3 }),
        async (shared, logged, depth, state) => {
          const job = new JobState("exact", { maxHistorySize: 10 });
          job.updateSharedData("value", shared);
          job.updateSharedData("deep", nest(depth, shared));
          job.updateRoutineState("r", state);
          job.recordExecution("r", "out", { logged });
          job.appendToSharedLog({ logged });
          const path = `${dir}/job-${n++}.json`;
          await job.save(path);
          const loaded = await JobState.load(path);
          assert.deepStrictEqual(loaded.getSharedData("value"), shared);
          assert.deepStrictEqual(loaded.getSharedData("deep"), nest(depth, shared));
          assert.deepStrictEqual(loaded.getRoutineState("r"), { ...state });
          assert.deepStrictEqual(loaded.getExecutionHistory()[0].data, { logged });
          assert.deepStrictEqual(loaded.getSharedLog()[0].logged, logged);
          // The same through toJSON() → JSON → fromJSON().
          const copy = JobState.fromJSON(JSON.parse(JSON.stringify(job)));
          assert.deepStrictEqual(copy.getSharedData("value"), shared);
        },
      ),
      { numRuns: 150 },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("JobState keeps Map, Set, Date, BigInt, typed arrays, undefined and 200 levels", async () => {
  const job = new JobState("exact");
  const data = {
    map: new Map<unknown, unknown>([[1, "one"], [{ k: 2 }, new Set([3n])]]),
    date: new Date(1_700_000_000_000),
    invalid: new Date(NaN),
    bytes: new Uint8Array([1, 2, 3]).subarray(1),
    floats: new Float64Array([-0, NaN, Infinity]),
    missing: undefined,
    negativeZero: -0,
    deep: nest(200, "bottom"),
  };
  job.updateSharedData("data", data);
  const loaded = JobState.fromJSON(JSON.parse(JSON.stringify(job)));
  assert.deepStrictEqual(loaded.getSharedData("data"), data);
  assert.ok("missing" in loaded.getSharedData<object>("data"));
});

Deno.test("JobState.save() fails naming the path of a value it cannot keep, and writes nothing", async () => {
  const revocable = Proxy.revocable({}, {});
  revocable.revoke();
  const cases: [unknown, RegExp, RegExp?][] = [
    [{ a: [1, () => 1] }, /sharedData\.get\("x"\)\.a\[1\]/],
    [{ widget: new (class Widget {})() }, /sharedData\.get\("x"\)\.widget/],
    [new Map([["k", { s: Symbol("s") }]]), /sharedData\.get\("x"\)\.get\("k"\)\.s/],
    [
      {
        ok: 1,
        bad: Object.defineProperty({}, "boom", {
          enumerable: true,
          get() {
            throw new Error("getter");
          },
        }),
      },
      /sharedData\.get\("x"\)\.bad\.boom/,
    ],
    [{ list: [0, revocable.proxy] }, /sharedData\.get\("x"\)\.list\[1\]/],
    [{ error: new Error("kept?") }, /sharedData\.get\("x"\)\.error/],
    [nest(20_000, 1), /^sharedData\.get\("x"\)$/, /must be nested less deeply/],
  ];
  const dir = await Deno.makeTempDir({ prefix: "switchyard-exact-" });
  try {
    for (const [bad, path, message = /must be/] of cases) {
      const job = new JobState("exact", { jobId: "j" });
      job.updateSharedData("fine", 1);
      await job.save(`${dir}/job.json`);
      const before = await Deno.readTextFile(`${dir}/job.json`);
      job.updateSharedData("x", bad);
      await assert.rejects(
        () => job.save(`${dir}/job.json`),
        (error: unknown) => {
          assert.ok(error instanceof JobStateSaveError, String(error));
          assert.match(error.message, /^Cannot save job 'j' as /);
          assert.match(error.path, path);
          assert.ok(error.message.includes(`as '${error.path}' must`), error.message);
          assert.match(error.message, message);
          return true;
        },
      );
      assert.equal(await Deno.readTextFile(`${dir}/job.json`), before);
      assert.equal((await JobState.load(`${dir}/job.json`)).getSharedData("fine"), 1);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
