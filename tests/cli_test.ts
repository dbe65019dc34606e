import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../src/cli/main.ts";
import type { CliOutput } from "../src/cli/progress.ts";
import { eventLogPath, loadRun, requestRows } from "../persistence.ts";
import { flowWaiting, gate, interruptStarted, statesWaiting } from "./fixtures/cli_module.ts";

const fixtureModule = new URL("./fixtures/cli_module.ts", import.meta.url)
  .pathname;
const fixtureState = new URL("./fixtures", import.meta.url).pathname;

interface Captured extends CliOutput {
  stdout: string;
  stderr: string;
}

function capture(isTerminal = false, onErr?: (text: string) => void): Captured {
  const captured: Captured = {
    stdout: "",
    stderr: "",
    out: (text) => void (captured.stdout += text),
    err: (text) => {
      captured.stderr += text;
      onErr?.(captured.stderr);
    },
    isTerminal,
    columns: 100,
  };
  return captured;
}

async function withStateDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-cli-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("switchyard --help lists every command and exits 0", async () => {
  const output = capture();
  assert.equal(await main(["--help"], { output }), 0);
  for (const command of ["run", "inspect", "ls", "viz"]) {
    assert.match(output.stdout, new RegExp(`^  ${command} `, "m"));
  }
});

Deno.test("switchyard <command> --help describes the command's options", async () => {
  const expected: Record<string, string[]> = {
    run: ["--export", "--no-save", "--timeout", "--dir", "Exit codes"],
    inspect: ["--json", "--dir"],
    ls: ["--json", "--dir"],
    viz: ["--port", "--dir"],
  };
  for (const [command, flags] of Object.entries(expected)) {
    const output = capture();
    assert.equal(await main([command, "--help"], { output }), 0);
    for (const flag of flags) {
      assert.ok(output.stdout.includes(flag), `${command}: ${flag}`);
    }
  }
});

Deno.test("switchyard exits 2 on bad usage", async () => {
  const cases: Array<[string[], RegExp]> = [
    [[], /Usage: switchyard/],
    [["frobnicate"], /unknown command 'frobnicate'/],
    [["run"], /missing required argument 'module'/],
    [
      ["run", fixtureModule, "--timeout", "soon"],
      /'--timeout' must be a positive whole number: current value is "soon"/,
    ],
    [
      ["viz", "--port", "70000"],
      /'--port' must be a whole number from 0 to 65535/,
    ],
    [["inspect", "../../etc/passwd"], /must be made of 1 to 200 letters/],
    [
      ["run", fixtureModule, "--export", "answer"],
      /export 'answer' must be a node, a flow or states: current value is 42/,
    ],
    [
      ["run", fixtureModule, "--export", "missing"],
      /'--export' must name one of its exports \(.*'failing'.*\): current value is "missing"/,
    ],
    [["run", "./tests/fixtures/no_such_module.ts"], /could not be imported/],
    [
      ["run", fixtureModule, "--export", "flowLike"],
      /Cannot run a flow as it must have execute\(\), waitForCompletion\(\), cancel\(\), info\(\), getRoutine\(\)/,
    ],
    [
      ["run", fixtureModule, "--export", "statesLike"],
      /^Cannot run export 'statesLike' of '.*' as the export must be a State or a non-empty list of States/,
    ],
    [
      ["run", fixtureModule, "--export", "flow", "--entry", "nowhere"],
      /'--entry' must name one of its routines \(source, collector, echo\): current value is "nowhere"/,
    ],
    [
      ["run", fixtureModule, "--export", "flow", "[1]"],
      /^Cannot run flow 'cli-flow' as its arguments must be one JSON object \(the entry routine's entryParams\): current value is \[1\]\n$/,
    ],
    [
      ["run", fixtureModule, "--entry", "source"],
      /'--entry' applies to a flow only: export 'default' is a node/,
    ],
    [
      ["run", fixtureModule, "--export", "states", "5"],
      /^Cannot run export 'states' of '.*' as they take no arguments/,
    ],
    [
      ["run", fixtureModule, "--export", "notStates", "--no-save"],
      /^Cannot run export 'notStates' of '.*' as the function must return a State or a non-empty list of States \(a plain function runs as a node made with node\(\)\): current value is 42/,
    ],
  ];
  for (const [args, message] of cases) {
    const output = capture();
    assert.equal(await main(args, { output }), 2, args.join(" "));
    assert.match(output.stderr, message, args.join(" "));
  }
});

Deno.test("switchyard run runs the default export, parses JSON args and saves the run", async () => {
  await withStateDir(async (dir) => {
    const output = capture();
    const code = await main(
      [
        "run",
        fixtureModule,
        "[1,2,3]",
        "not json",
        "--dir",
        dir,
        "--run-id",
        "cli-ok",
      ],
      { output },
    );
    assert.equal(code, 0, output.stderr);
    assert.deepEqual(JSON.parse(output.stdout), {
      label: "not json",
      doubled: [2, 4, 6],
    });
    assert.match(
      output.stderr,
      /^Completed in .*: 4 requests \(4 done, 0 failed\)$/m,
    );
    assert.match(output.stderr, /switchyard inspect cli-ok/);
    const run = await loadRun(dir, "cli-ok");
    assert.equal(run.status, "Completed");
    assert.equal(requestRows(run.runs).length, 4);
  });
});

Deno.test("switchyard run exits 1 when the run fails and prints the error", async () => {
  await withStateDir(async (dir) => {
    const output = capture();
    const code = await main(
      [
        "run",
        fixtureModule,
        "--export",
        "failing",
        "--dir",
        dir,
        "--run-id",
        "cli-fail",
      ],
      { output },
    );
    assert.equal(code, 1);
    assert.equal(output.stdout, "");
    assert.match(output.stderr, /^failed: leaf: RangeError: negative -1$/m);
    // Printed once, not once per ancestor it went through nor again at the end.
    assert.match(output.stderr, /^Failed after .*: 2 requests \(0 done, 2 failed\)$/m);
    assert.equal(output.stderr.match(/negative -1/g)?.length, 1, output.stderr);
    assert.equal((await loadRun(dir, "cli-fail")).status, "Failed");
  });
});

Deno.test("switchyard run --timeout ends a stuck run with exit 1", async () => {
  await withStateDir(async (dir) => {
    const output = capture();
    const code = await main(
      [
        "run",
        fixtureModule,
        "--export",
        "stuck",
        "--timeout",
        "20",
        "--dir",
        dir,
      ],
      { output },
    );
    assert.equal(code, 1);
    assert.match(output.stderr, /GlobalTimeoutError/);
  });
});

Deno.test("switchyard run --no-save leaves no files", async () => {
  await withStateDir(async (dir) => {
    const output = capture();
    assert.equal(
      await main(
        ["run", fixtureModule, "[5]", "x", "--no-save", "--dir", dir],
        { output },
      ),
      0,
    );
    assert.deepEqual([...Deno.readDirSync(dir)], []);
    assert.doesNotMatch(output.stderr, /Saved run/);
  });
});

Deno.test("switchyard run redraws a live status line on a terminal", async () => {
  await withStateDir(async (dir) => {
    const output = capture(true, (stderr) => {
      const redrawn = stderr.split("\r\x1b[2K").some((frame) =>
        / running 1 {2}done 1 {2}failed 0 {2}\| gated$/.test(frame)
      );
      if (redrawn) {
        gate.resolve();
      }
    });
    const code = await main([
      "run",
      fixtureModule,
      "--export",
      "gated",
      "--dir",
      dir,
    ], { output });
    assert.equal(code, 0, output.stderr);
    assert.equal(output.stdout, '"through"\n');
  });
});

Deno.test("switchyard run, interrupted, cancels what is open, saves and exits 130", async () => {
  await withStateDir(async (dir) => {
    const output = capture();
    const interrupt = new AbortController();
    const exit = main(
      [
        "run",
        fixtureModule,
        "--export",
        "interruptible",
        "--dir",
        dir,
        "--run-id",
        "cli-int",
      ],
      { output, interrupt: interrupt.signal },
    );
    await interruptStarted.promise;
    interrupt.abort();
    assert.equal(await exit, 130);
    assert.match(
      output.stderr,
      /^Interrupted after .*: 2 requests \(1 done, 0 failed, 1 cancelled\)$/m,
    );
    const run = await loadRun(dir, "cli-int");
    assert.equal(run.status, "Cancelled");
    assert.equal(run.source, "snapshot");
  });
});

Deno.test("switchyard run runs a flow from its first routine with entryParams and saves the job", async () => {
  await withStateDir(async (dir) => {
    const output = capture();
    const code = await main(
      [
        "run",
        fixtureModule,
        "--export",
        "flow",
        '{"items":["x","y"]}',
        "--dir",
        dir,
        "--run-id",
        "cli-flow",
      ],
      { output },
    );
    assert.equal(code, 0, output.stderr);
    assert.deepEqual(JSON.parse(output.stdout), {
      jobId: "cli-flow",
      status: "completed",
      sharedData: { collected: ["x", "y"] },
    });
    assert.match(output.stderr, /^Completed in .*: 3 requests \(3 done, 0 failed\)$/m);
    const run = await loadRun(dir, "cli-flow");
    assert.equal(run.status, "Completed");
    assert.equal(run.source, "snapshot");
    // The event log was written from the job's first request on.
    const events = (await Deno.readTextFile(eventLogPath(dir, "cli-flow"))).trim().split("\n")
      .map((line) => JSON.parse(line));
    assert.deepEqual(events.slice(0, 2).map((e) => [e.event, e.name]), [
      ["start", undefined],
      ["created", "source.trigger"],
    ]);
    assert.equal(events.at(-1).event, "saved");
    assert.deepEqual(
      requestRows(run.runs).map((r) => [r.name, r.depth]),
      [["source.trigger", 0], ["collector.input", 1], ["collector.input", 1]],
    );
  });
});

Deno.test("switchyard run --entry starts a flow at another routine", async () => {
  const output = capture();
  const code = await main(
    ["run", fixtureModule, "--export", "flow", "--entry", "echo", '{"n":1}', "--no-save"],
    { output },
  );
  assert.equal(code, 0, output.stderr);
  assert.deepEqual(JSON.parse(output.stdout).sharedData, { echo: { n: 1 } });
  const bad = capture();
  assert.equal(
    await main(["run", fixtureModule, "--export", "flow", "--entry", "collector"], {
      output: bad,
    }),
    2,
  );
  assert.match(
    bad.stderr,
    /^Cannot run flow 'cli-flow' as '--entry' must name a routine with a 'trigger' slot: current value is "collector"\n$/,
  );
});

Deno.test("switchyard run says a flow's job a routine paused was paused, not completed, and exits 0", async () => {
  const output = capture();
  const code = await main(["run", fixtureModule, "--export", "pausingFlow", "--no-save"], {
    output,
  });
  assert.equal(code, 0, output.stderr);
  assert.equal(JSON.parse(output.stdout).status, "paused");
  assert.match(output.stderr, /^Paused after .*: 1 request \(1 done, 0 failed\)$/m);
  assert.doesNotMatch(output.stderr, /Completed/);
});

Deno.test("switchyard run exits 1 when a flow's job fails, and saves it", async () => {
  await withStateDir(async (dir) => {
    const output = capture();
    const code = await main(
      ["run", fixtureModule, "--export", "failingFlow", "--dir", dir, "--run-id", "cli-flow-fail"],
      { output },
    );
    assert.equal(code, 1);
    assert.equal(output.stdout, "");
    assert.match(output.stderr, /^failed: probe\.trigger: RangeError: bad entry$/m);
    assert.match(
      output.stderr,
      /^Failed after .*: 1 request \(0 done, 1 failed\)\nRangeError: bad entry$/m,
    );
    assert.equal((await loadRun(dir, "cli-flow-fail")).status, "Failed");
  });
});

Deno.test("switchyard run --timeout cancels a flow's job with exit 1", async () => {
  await withStateDir(async (dir) => {
    const output = capture();
    const code = await main(
      [
        "run",
        fixtureModule,
        "--export",
        "waitingFlow",
        "--timeout",
        "20",
        "--dir",
        dir,
        "--run-id",
        "cli-flow-late",
      ],
      { output },
    );
    assert.equal(code, 1);
    assert.match(output.stderr, /GlobalTimeoutError/);
    assert.equal((await loadRun(dir, "cli-flow-late")).status, "Cancelled");
  });
});

Deno.test("switchyard run, interrupted, cancels a flow's job, saves it and exits 130", async () => {
  await withStateDir(async (dir) => {
    const output = capture();
    const interrupt = new AbortController();
    const exit = main(
      ["run", fixtureModule, "--export", "waitingFlow", "--dir", dir, "--run-id", "cli-flow-int"],
      { output, interrupt: interrupt.signal },
    );
    await flowWaiting.promise;
    interrupt.abort();
    assert.equal(await exit, 130);
    assert.match(
      output.stderr,
      /^Interrupted after .*: 1 request \(0 done, 0 failed, 1 cancelled\)$/m,
    );
    assert.equal((await loadRun(dir, "cli-flow-int")).status, "Cancelled");
  });
});

Deno.test("switchyard run drains a list of states, blocking ones included, and saves the run", async () => {
  await withStateDir(async (dir) => {
    const output = capture();
    const code = await main(
      ["run", fixtureModule, "--export", "states", "--dir", dir, "--run-id", "cli-states"],
      { output },
    );
    assert.equal(code, 0, output.stderr);
    assert.deepEqual(JSON.parse(output.stdout), [
      { state: "Double", status: "Completed", output: 42 },
      { state: "Square", status: "Completed", output: 49 },
    ]);
    const run = await loadRun(dir, "cli-states");
    assert.equal(run.status, "Completed");
    assert.deepEqual(
      requestRows(run.runs).map((r) => [r.name, r.depth, r.status]),
      [
        ["Double", 0, "Completed"],
        ["leaf", 1, "Completed"],
        ["Square", 0, "Completed"],
        ["square", 1, "Completed"],
      ],
    );
  });
});

Deno.test("switchyard run calls a function returning states with the arguments", async () => {
  const output = capture();
  const code = await main(
    ["run", fixtureModule, "--export", "makeStates", "ab", "3", "--no-save"],
    { output },
  );
  assert.equal(code, 0, output.stderr);
  assert.deepEqual(JSON.parse(output.stdout), [
    { state: "Repeat", status: "Completed", output: "ababab" },
  ]);
});

Deno.test("switchyard run exits 1 when a state fails, after running the others", async () => {
  await withStateDir(async (dir) => {
    const output = capture();
    const code = await main(
      [
        "run",
        fixtureModule,
        "--export",
        "failingStates",
        "--dir",
        dir,
        "--run-id",
        "cli-states-fail",
      ],
      { output },
    );
    assert.equal(code, 1);
    assert.match(output.stderr, /^failed: Boom: Error: boom$/m);
    assert.match(output.stderr, /^Failed after .*: 2 requests \(1 done, 1 failed\)$/m);
    assert.equal(output.stderr.match(/boom/g)?.length, 1, output.stderr);
    const run = await loadRun(dir, "cli-states-fail");
    assert.deepEqual(requestRows(run.runs).map((r) => [r.name, r.status]), [
      ["Boom", "Failed"],
      ["After", "Completed"],
    ]);
  });
});

Deno.test("switchyard run, interrupted, stops states waiting at a gate and exits 130", async () => {
  await withStateDir(async (dir) => {
    const output = capture();
    const interrupt = new AbortController();
    const exit = main(
      [
        "run",
        fixtureModule,
        "--export",
        "waitingStates",
        "--dir",
        dir,
        "--run-id",
        "cli-states-int",
      ],
      { output, interrupt: interrupt.signal },
    );
    await statesWaiting.promise;
    interrupt.abort();
    assert.equal(await exit, 130);
    assert.match(output.stderr, /^Interrupted after .*: 1 request \(1 done, 0 failed\)$/m);
    const run = await loadRun(dir, "cli-states-int");
    assert.deepEqual(requestRows(run.runs).map((r) => r.name), ["Started"]);
  });
});

Deno.test("switchyard run --timeout stops states with exit 1", async () => {
  await withStateDir(async (dir) => {
    const output = capture();
    const gated = [
      "run",
      fixtureModule,
      "--export",
      "waitingStates",
      "--timeout",
      "20",
      "--dir",
      dir,
    ];
    assert.equal(await main(gated, { output }), 1);
    assert.match(output.stderr, /GlobalTimeoutError/);
  });
});

Deno.test("switchyard viz serves the runs of --dir until stopped", async () => {
  const output = capture();
  const stop = Promise.withResolvers<void>();
  let listed: unknown;
  const exit = main(["viz", "--port", "0", "--dir", fixtureState], {
    output,
    stopSignal: stop.promise,
    onVizListening: async (url) => {
      listed = await (await fetch(`${url}api/runs`)).json();
      stop.resolve();
    },
  });
  assert.equal(await exit, 0);
  assert.match(
    output.stderr,
    /^Serving runs from .* at http:\/\/127\.0\.0\.1:\d+\/ /,
  );
  assert.deepEqual(
    (listed as Array<{ runId: string }>).map((r) => r.runId),
    ["fixture-crashed", "fixture-done"],
  );
});

Deno.test("switchyard inspect prints a saved run's tree with statuses, durations and errors", async () => {
  const output = capture();
  assert.equal(
    await main(["inspect", "fixture-done", "--dir", fixtureState], { output }),
    0,
  );
  assert.equal(
    output.stdout,
    [
      "Run fixture-done  pipeline  Completed  75.0 ms  6 requests, 1 failed  (from snapshot)",
      '✓ pipeline("./data")  75.0 ms',
      '├─ ✓ scan("./data")  12.0 ms',
      '├─ ✓ analyse("./data/a.txt")  25.0 ms',
      '├─ ✓ analyse("./data/b.txt")  46.0 ms',
      '│  └─ ✓ hash("./data/b.txt")  18.0 ms',
      '└─ ✗ analyse("./data/c.bin")  25.0 ms  RangeError: binary file c.bin',
      "",
    ].join("\n"),
  );
});

Deno.test("switchyard inspect shows a crashed run from its event log", async () => {
  const output = capture();
  const file = join(fixtureState, "runs", "fixture-crashed.events.jsonl");
  assert.equal(await main(["inspect", file], { output }), 0);
  assert.equal(
    output.stdout,
    [
      "Run fixture-crashed  pipeline  Crashed  -  3 requests, 0 failed  (from event log)",
      '… pipeline("./data")  open',
      '├─ ✓ analyse("./data/a.txt")  25.0 ms',
      '└─ … analyse("./data/b.txt")  open',
      "",
    ].join("\n"),
  );
  assert.match(output.stderr, /warning: ignored a torn last line/);
});

Deno.test("switchyard inspect --json prints the summary and every request", async () => {
  const output = capture();
  assert.equal(
    await main(["inspect", "fixture-d", "--json", "--dir", fixtureState], {
      output,
    }),
    0,
  );
  const run = JSON.parse(output.stdout);
  assert.equal(run.runId, "fixture-done");
  assert.equal(run.failed, 1);
  assert.deepEqual(
    run.requests.map((r: { name: string; depth: number }) => `${r.depth}:${r.name}`),
    ["0:pipeline", "1:scan", "1:analyse", "1:analyse", "2:hash", "1:analyse"],
  );
  assert.equal(run.requests[5].output.message, "binary file c.bin");
});

Deno.test("switchyard ls lists saved runs", async () => {
  const output = capture();
  assert.equal(await main(["ls", "--dir", fixtureState], { output }), 0);
  const lines = output.stdout.trimEnd().split("\n");
  assert.match(
    lines[0],
    /^RUN +NAME +STATUS +STARTED +DURATION +REQUESTS +FAILED$/,
  );
  assert.match(lines[1], /^fixture-crashed +pipeline +Crashed .* 3 +0$/);
  assert.match(
    lines[2],
    /^fixture-done +pipeline +Completed .* 75\.0 ms +6 +1$/,
  );
  const json = capture();
  assert.equal(
    await main(["ls", "--json", "--dir", fixtureState], { output: json }),
    0,
  );
  assert.deepEqual(
    JSON.parse(json.stdout).map((r: { runId: string }) => r.runId),
    ["fixture-crashed", "fixture-done"],
  );
  await withStateDir(async (dir) => {
    const empty = capture();
    assert.equal(await main(["ls", "--dir", dir], { output: empty }), 0);
    assert.equal(empty.stdout, "No saved runs.\n");
  });
});

Deno.test("switchyard exits 0, 1 and 2 as a process", async () => {
  const entry = new URL("../src/cli/main.ts", import.meta.url).pathname;
  const config = new URL("../deno.json", import.meta.url).pathname;
  const run = async (...args: string[]) =>
    (await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", config, entry, ...args],
      stdout: "null",
      stderr: "null",
    }).output()).code;
  assert.equal(await run("ls", "--dir", fixtureState), 0);
  assert.equal(
    await run("run", fixtureModule, "--export", "failing", "--no-save"),
    1,
  );
  assert.equal(await run("inspect"), 2);
});

Deno.test("switchyard run counts one request in the singular", async () => {
  await withStateDir(async (dir) => {
    const module = join(dir, "one.ts");
    await Deno.writeTextFile(
      module,
      `import { node } from ${JSON.stringify(new URL("../mod.ts", import.meta.url).href)};\n` +
        `export default node(async function one() { return 1; });\n`,
    );
    const output = capture();
    const code = await main(["run", module, "--dir", dir], { output });
    assert.equal(code, 0, output.stderr);
    assert.match(output.stderr, /^Completed in .*: 1 request \(1 done, 0 failed\)$/m);
  });
});
