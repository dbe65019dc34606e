import assert from "node:assert/strict";
import { type DenoOutput, runDeno } from "./helpers/deno.ts";
import fc from "fast-check";
import { join } from "node:path";
import { ErrorHandler, Flow, Gate, node, Runner, State } from "../mod.ts";
import { main } from "../src/cli/main.ts";
import { startRedis } from "./helpers/redis.ts";

/** Values that break naive formatting: no prototype, null toString, throwing getters. */
const hostile = fc.constantFrom<unknown>(
  Object.create(null),
  { toString: null },
  { toString: () => ({}) },
  { [Symbol.toPrimitive]: () => ({}) },
  {
    get then() {
      throw new Error("getter");
    },
  },
  Symbol("s"),
  10n,
  new Proxy({}, {}),
  [1, [2, [3]]],
  () => 1,
  new Gate(),
  node(() => 1, { name: "n" }),
);
const value = fc.oneof(fc.anything({ withObjectString: true, withNullPrototype: true }), hostile);

Deno.test("new State() with arbitrary input either builds a state or throws a named TypeError", () => {
  const options = fc.oneof(
    value,
    fc.record({
      args: value,
      lazyArgs: fc.oneof(value, fc.array(value, { maxLength: 3 })),
      isBlocking: fc.oneof(fc.boolean(), value),
      longRunning: fc.oneof(fc.boolean(), value),
      event: value,
    }, { requiredKeys: [] }),
  );
  const fn = fc.oneof(value, fc.constant(() => 1), fc.constant(node(() => 1, { name: "n" })));
  fc.assert(
    fc.property(fc.oneof(fc.string(), value), fn, options, (name, f, opts) => {
      let state: State | undefined;
      try {
        state = new State(name as string, f as () => unknown, opts as object);
      } catch (error) {
        assert.ok(error instanceof TypeError, `threw ${String(error)}`);
        assert.match(error.message, /^Cannot create (a )?state.* as '.+' must /s);
        return;
      }
      assert.equal(state.name, name);
    }),
    { numRuns: 2_000 },
  );
});

Deno.test("switchyard main() with arbitrary arguments returns an exit code and never throws", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "switchyard-cli-fuzz-" });
  const token = fc.oneof(
    fc.constantFrom(
      "run",
      "inspect",
      "ls",
      "viz",
      "help",
      "--help",
      "-h",
      "--version",
      "--dir",
      "--json",
      "--port",
      "--timeout",
      "--export",
      "--no-save",
      "--",
      "-",
      "-x",
      "--dir=",
      "--port=-1",
      "--timeout=0",
      "../../etc/passwd",
      "/etc/passwd",
      "%2e%2e",
      "nonexistent.ts",
      "[1,2",
      "{}",
      "0",
      "65536",
      "1e3",
      "NaN",
    ),
    fc.string(),
    fc.string({ unit: "binary" }),
  );
  const stopped = Promise.resolve();
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(token, { maxLength: 6 }), async (argv) => {
        // Every command reads and writes under the temporary state folder.
        const args = argv.includes("--dir") || argv.some((a) => a.startsWith("--dir="))
          ? argv
          : [...argv, "--dir", stateDir];
        let stderr = "";
        const code = await main(args, {
          output: { out: () => {}, err: (t) => void (stderr += t), isTerminal: false, columns: 80 },
          stopSignal: stopped,
          interrupt: AbortSignal.abort(),
        });
        assert.ok([0, 1, 2, 130].includes(code), `${JSON.stringify(args)} → ${code}`);
        if (code === 2) assert.notEqual(stderr.trim(), "", `${JSON.stringify(args)}: no message`);
        assert.doesNotMatch(stderr, /^\s+at /m, `${JSON.stringify(args)}: a stack trace`);
      }),
      { numRuns: 300 },
    );
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("a flow without routines says it has none when asked to connect or execute", async () => {
  const flow = new Flow({ flowId: "empty" });
  assert.throws(
    () => flow.connect("a", "out", "b", "in"),
    (error: Error) =>
      error.message ===
        "Cannot connect 'a.out' to 'b.in' as 'srcId' must be a routine of flow 'empty' (none): current value is \"a\"",
  );
  await assert.rejects(
    flow.execute("a"),
    /'entryId' must be a routine of flow 'empty' \(none\): current value is "a"$/,
  );
});

Deno.test("node() with arbitrary input either builds a node or throws a named TypeError", () => {
  const options = fc.oneof(
    value,
    fc.record({
      name: fc.oneof(fc.string(), value),
      retries: fc.oneof(fc.integer({ min: -2, max: 3 }), value),
      timeout: fc.oneof(fc.integer({ min: -2, max: 1_000 }), value),
      worker: fc.oneof(fc.boolean(), value),
    }, { requiredKeys: [] }),
  );
  const fn = fc.oneof(value, fc.constant(() => 1), fc.constant(function named() {}));
  fc.assert(
    fc.property(fn, options, (f, opts) => {
      try {
        node(f as () => unknown, opts as object);
      } catch (error) {
        assert.ok(error instanceof TypeError, `threw ${String(error)}`);
        assert.match(error.message, /^Cannot create (a node|node '.+') as '.*' must /s);
        assert.doesNotMatch(error.message, /must be Invalid input/);
      }
    }),
    { numRuns: 2_000 },
  );
});

Deno.test("node(): an anonymous node with a queue but no module URL is named 'a node', not ''", () => {
  assert.throws(
    () => node(async () => 1, { queue: "jobs" }),
    (error: unknown) =>
      error instanceof TypeError &&
      error.message.startsWith("Cannot create a node as 'worker' must be a module URL") &&
      !error.message.includes("''"),
  );
});

Deno.test("an option matching none of its alternatives is told what each alternative is", () => {
  assert.throws(
    () => new Runner({ workers: { permissions: "some" as "none" } }),
    (error: unknown) =>
      error instanceof TypeError &&
      error.message ===
        `Cannot create Runner as 'workers.permissions' must be one of "inherit", "none" or an object: current value is "some"`,
  );
  assert.throws(
    () => node(() => 1, { name: "n", worker: 5 as unknown as true }),
    (error: unknown) =>
      error instanceof TypeError &&
      error.message ===
        "Cannot create node 'n' as 'worker' must be a boolean, a string or a URL: current value is 5",
  );
  assert.throws(
    () => new ErrorHandler({ retryable: 5 as unknown as () => boolean }),
    (error: unknown) =>
      error instanceof TypeError &&
      /'retryable' must be a function or an array: current value is 5$/.test(error.message),
  );
});

/** The CLI as a process: its exit code and what it printed. */
function switchyard(args: string[]): Promise<DenoOutput> {
  return runDeno(["run", "-A", "--unstable-worker-options", cliPath, ...args]);
}

const cliPath = new URL("../src/cli/main.ts", import.meta.url).pathname;
const modPath = new URL("../mod.ts", import.meta.url).href;

/**
 * Writes a module whose node returns 7 after writing the file `ran`: a
 * test can tell whether the node ran.
 */
async function writeSideModule(dir: string): Promise<{ module: string; ran: string }> {
  const module = join(dir, "side.ts");
  const ran = join(dir, "ran");
  await Deno.writeTextFile(
    module,
    `import { node } from ${JSON.stringify(modPath)};\n` +
      `export default node(() => { Deno.writeTextFileSync(${
        JSON.stringify(ran)
      }, "x"); return 7; }, { name: "side" });\n`,
  );
  return { module, ran };
}

Deno.test("switchyard run --dir naming a file is bad usage before anything runs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-bad-dir-" });
  try {
    const { module, ran } = await writeSideModule(dir);
    const file = join(dir, "not-a-folder");
    await Deno.writeTextFile(file, "kept");
    const { code, stderr } = await switchyard(["run", module, "--dir", file]);
    assert.equal(code, 2, stderr);
    assert.match(
      stderr,
      new RegExp(
        `Cannot run '.*side\\.ts' as '--dir' must be a folder \\(or not exist yet\\): current value is "${file}"\\n`,
      ),
    );
    assert.doesNotMatch(stderr, /^\s+at /m, "no stack trace");
    assert.equal(await Deno.readTextFile(file), "kept");
    await assert.rejects(Deno.stat(ran), Deno.errors.NotFound, "the node did not run");
    // --no-save needs no folder.
    const unsaved = await switchyard(["run", module, "--dir", file, "--no-save"]);
    assert.equal(unsaved.code, 0, unsaved.stderr);
    assert.equal(unsaved.stdout, "7\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("switchyard run --output: a folder is bad usage before the run; a failed write prints the answer", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-bad-output-" });
  try {
    const { module, ran } = await writeSideModule(dir);
    const folder = await switchyard(["run", module, "--dir", dir, "--output", dir]);
    assert.equal(folder.code, 2, folder.stderr);
    assert.match(
      folder.stderr,
      /'--output' must be a file in an existing folder: current value is "/,
    );
    await assert.rejects(Deno.stat(ran), Deno.errors.NotFound, "the node did not run");

    // /dev/full takes no bytes: the write fails after the run.
    const full = await switchyard(["run", module, "--dir", dir, "--output", "/dev/full"]);
    assert.equal(full.code, 1, full.stderr);
    assert.match(
      full.stderr,
      /Cannot write the answer as '--output' must be a writable file: current value is "\/dev\/full" \(.+\); it follows on stdout\n/,
    );
    assert.equal(full.stdout, "7\n");
    assert.doesNotMatch(full.stderr, /^\s+at /m, "no stack trace");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("switchyard ls and inspect with a file for the runs folder exit 2 naming it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-bad-runs-" });
  try {
    await Deno.writeTextFile(join(dir, "runs"), "not a folder");
    for (const args of [["ls", "--dir", dir], ["inspect", "abc", "--dir", dir]]) {
      const { code, stderr } = await switchyard(args);
      assert.equal(code, 2, stderr);
      assert.match(
        stderr,
        /^Cannot list runs as the runs folder must be a folder: current value is ".*runs" \(a file\)$/m,
      );
      assert.doesNotMatch(stderr, /NotADirectory|^\s+at /m);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("switchyard inspect of a folder, a damaged file or a linked run exits 2 with one plain line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-bad-inspect-" });
  try {
    await Deno.mkdir(join(dir, "folder.json"));
    const folder = await switchyard(["inspect", join(dir, "folder.json")]);
    assert.equal(folder.code, 2, folder.stderr);
    assert.match(
      folder.stderr,
      /'.*folder\.json' must be a run file, not a folder: current value is/,
    );
    assert.doesNotMatch(folder.stderr, /does not exist/);

    // A damaged file's bytes reach the terminal escaped, not as escapes.
    await Deno.writeTextFile(join(dir, "damaged.json"), '{"format":"\x1b]0;owned\x07\x1b[2J');
    const damaged = await switchyard(["inspect", join(dir, "damaged.json")]);
    assert.equal(damaged.code, 2, damaged.stderr);
    assert.match(damaged.stderr, /'.*damaged\.json' must be JSON.*: current value is "/);
    assert.ok(
      !damaged.stderr.includes("\x1b") && !damaged.stderr.includes("\x07"),
      "no raw escapes",
    );

    // A link in the runs folder is no run, whatever it points at.
    await Deno.mkdir(join(dir, "runs"));
    await Deno.writeTextFile(join(dir, "outside.json"), "{}");
    await Deno.symlink(join(dir, "outside.json"), join(dir, "runs", "linked.json"));
    const linked = await switchyard(["inspect", "linked", "--dir", dir]);
    assert.equal(linked.code, 2, linked.stderr);
    assert.match(linked.stderr, /'runId' must name a run in .*: current value is "linked"/);
    for (const { stderr } of [folder, damaged, linked]) {
      assert.doesNotMatch(stderr, /^\s+at /m, "no stack trace");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an unknown key of a nested option is named with its path", () => {
  assert.throws(
    () => new Runner({ workers: { sizes: 2 } as never }),
    (error: unknown) =>
      error instanceof TypeError &&
      error.message ===
        "Cannot create Runner as 'workers.sizes' must not be given (unknown option)",
  );
});

Deno.test("switchyard worker checks --permissions before it connects, naming the field inside", async () => {
  // Nothing listens on port 1: a check after connecting would report Redis.
  const cases: [string, RegExp][] = [
    ['{"read":5}', /'permissions\.read' must be .*a boolean or an array: current value is 5\n/],
    [
      '{"read":["/tmp",2],"wirte":true}',
      /'permissions\.read\[1\]' must be a string: current value is 2; 'permissions\.wirte' must not be given \(unknown option\)\n/,
    ],
  ];
  for (const [permissions, message] of cases) {
    const { code, stderr } = await switchyard([
      "worker",
      "--redis",
      "redis://127.0.0.1:1",
      "--queue",
      "q",
      "--permissions",
      permissions,
    ]);
    assert.equal(code, 2, stderr);
    assert.match(stderr, /^Cannot start a worker as /m);
    assert.match(stderr, message);
    assert.doesNotMatch(stderr, /Redis|^\s+at /m);
  }
});

Deno.test("switchyard viz prints a failure it answers 500 for on stderr, and keeps serving", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-bad-viz-" });
  // A file where the runs folder should be: listing it fails.
  await Deno.writeTextFile(join(dir, "runs"), "not a folder");
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-worker-options", cliPath, "viz", "--port", "0", "--dir", dir],
    env: { NO_COLOR: "1" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const lines = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let stderr = "";
  try {
    let url: string | undefined;
    while (url === undefined) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`viz exited: ${stderr}`);
      stderr += value;
      url = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stderr)?.[1];
    }
    const list = await fetch(`${url}api/runs`);
    assert.equal(list.status, 500);
    assert.match((await list.json()).error, /see the server's log/);
    const page = await fetch(`${url}app.js`);
    await page.body?.cancel();
    assert.equal(page.status, 200, "still serving");
  } finally {
    child.kill("SIGTERM");
    while (true) {
      const { value, done } = await lines.read();
      if (done) break;
      stderr += value;
    }
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
  assert.match(
    stderr,
    /Visualizer failed on \/api\/runs: TypeError: Cannot list runs as the runs folder must be a folder: current value is ".*runs" \(a file\)/,
  );
});

Deno.test("a Redis URL whose path or query the client would misread is refused, not a crash", async () => {
  await using redis = await startRedis();
  // The client reads the path as the database and the query as its options,
  // unchecked: each of these took the worker process down.
  for (const url of [`${redis.url}/abc`, `${redis.url}?db=abc`, `${redis.url}?connectTimeout=x`]) {
    const { code, stderr } = await switchyard(["worker", "--redis", url, "--queue", "q"]);
    assert.equal(code, 2, stderr);
    assert.ok(
      stderr.includes(
        `Cannot start a worker as 'redis' must be a redis:// or rediss:// URL with a host, at most a database number as its path, and no query: current value is ${
          JSON.stringify(url)
        }\n`,
      ),
      stderr,
    );
    assert.doesNotMatch(stderr, /Uncaught|^\s+at /m);
    assert.throws(
      () => new Runner({ remote: { redis: url } }),
      (error: unknown) =>
        error instanceof TypeError && error.message.includes("'remote.redis' must be a redis://"),
    );
  }
});

Deno.test("a Redis database past the server's count is refused at start, not database 0", async () => {
  await using redis = await startRedis();
  const { code, stderr } = await switchyard([
    "worker",
    "--redis",
    `${redis.url}/99`,
    "--queue",
    "q",
  ]);
  assert.equal(code, 2, stderr);
  assert.match(
    stderr,
    /^Cannot use Redis at redis:\/\/127\.0\.0\.1:\d+\/99 .*DB index is out of range/m,
  );
});
