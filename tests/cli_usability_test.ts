// The CLI as a new user meets it: --version, answers to a file or not at
// all, clear errors for missing folders and unknown runs, argument schemas,
// and hints that work when typed back.
import assert from "node:assert/strict";
import { runDeno } from "./helpers/deno.ts";
import { join } from "node:path";
import { main, VERSION } from "../src/cli/main.ts";
import { cliInvocation } from "../src/cli/_invocation.ts";
import type { CliOutput } from "../src/cli/progress.ts";

const root = new URL("../", import.meta.url).pathname;
const argsModule = new URL("./fixtures/cli_args.ts", import.meta.url).pathname;
const nodesModule = new URL("./fixtures/cli_module.ts", import.meta.url).pathname;

function capture(): CliOutput & { stdout: string; stderr: string } {
  const c = {
    stdout: "",
    stderr: "",
    out: (t: string) => void (c.stdout += t),
    err: (t: string) => void (c.stderr += t),
    isTerminal: false,
    columns: 100,
  };
  return c;
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-cli-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("switchyard --version prints the package version", async () => {
  const output = capture();
  assert.equal(await main(["--version"], { output }), 0);
  assert.equal(output.stdout, `${VERSION}\n`);
  const config = JSON.parse(await Deno.readTextFile(join(root, "deno.json")));
  assert.equal(VERSION, config.version);
});

Deno.test("switchyard run --output writes the answer to a file; --quiet prints none", async () => {
  await withDir(async (dir) => {
    const file = join(dir, "answer.json");
    const written = capture();
    const code = await main(
      ["run", argsModule, "--export", "big", "500", "--no-save", "--output", file],
      { output: written },
    );
    assert.equal(code, 0, written.stderr);
    assert.equal(written.stdout, "");
    const answer = JSON.parse(await Deno.readTextFile(file));
    assert.equal(answer.length, 500);
    assert.deepEqual(answer[499], { i: 499, text: "row 499" });
    assert.match(written.stderr, /Wrote the answer to .*answer\.json/);

    const quiet = capture();
    assert.equal(
      await main(["run", argsModule, "--export", "big", "5", "--no-save", "--quiet"], {
        output: quiet,
      }),
      0,
    );
    assert.equal(quiet.stdout, "");
    assert.match(quiet.stderr, /^Completed in /m);

    // A large answer on stdout comes with a hint about both options.
    const large = capture();
    assert.equal(
      await main(["run", argsModule, "--export", "big", "2000", "--no-save"], { output: large }),
      0,
    );
    assert.equal(JSON.parse(large.stdout).length, 2000);
    assert.match(large.stderr, /\(the answer is \d+ KiB of JSON: --output FILE .* --quiet /);
    assert.doesNotMatch(written.stderr + quiet.stderr, /KiB of JSON/);
  });
});

Deno.test("switchyard ls --dir of a missing folder is an error", async () => {
  await withDir(async (dir) => {
    const output = capture();
    assert.equal(await main(["ls", "--dir", join(dir, "nope")], { output }), 2);
    assert.match(output.stderr, /'--dir' must be an existing folder: current value is ".*nope"/);
    assert.equal(output.stdout, "");
  });
});

Deno.test("switchyard run --output in a missing folder is an error before the run starts", async () => {
  await withDir(async (dir) => {
    const output = capture();
    const file = join(dir, "nope", "answer.json");
    assert.equal(await main(["run", nodesModule, "--output", file, "--dir", dir], { output }), 2);
    assert.equal(
      output.stderr,
      `Cannot run '${nodesModule}' as '--output' must be a file in an existing folder: current value is ${
        JSON.stringify(file)
      }\n`,
    );
    assert.deepEqual([...Deno.readDirSync(dir)], [], "nothing ran, nothing was saved");
  });
});

Deno.test("switchyard viz --dir of a missing folder is an error", async () => {
  await withDir(async (dir) => {
    const output = capture();
    assert.equal(await main(["viz", "--port", "0", "--dir", join(dir, "nope")], { output }), 2);
    assert.match(
      output.stderr,
      /^Cannot serve the visualizer as '--dir' must be an existing folder: current value is ".*nope"\n$/,
    );
  });
});

Deno.test("switchyard inspect of an unknown run suggests ls with the same folder", async () => {
  await withDir(async (dir) => {
    const output = capture();
    assert.equal(await main(["inspect", "no-such-run", "--dir", dir], { output }), 2);
    assert.match(output.stderr, /no-such-run/);
    assert.match(output.stderr, new RegExp(`List the saved runs with: .* ls --dir ${dir}\\n$`));
  });
});

Deno.test("switchyard run checks arguments with the module's exported schema, naming the field", async () => {
  const bad = capture();
  assert.equal(await main(["run", argsModule, '{"count":"x"}', "--no-save"], { output: bad }), 2);
  assert.match(
    bad.stderr,
    /Cannot run '.*cli_args\.ts' as argument 1: 'count' must be a number: current value is "x" \(checked by the export 'args'\)/,
  );
  const missing = capture();
  assert.equal(await main(["run", argsModule, "--no-save"], { output: missing }), 2);
  assert.match(missing.stderr, /as at least 1 argument\(s\) must be given: current value is \[\]/);

  const good = capture();
  assert.equal(await main(["run", argsModule, '{"count":2}', "--no-save"], { output: good }), 0);
  assert.deepEqual(JSON.parse(good.stdout), ["items", "items"]); // the schema's default applied
});

Deno.test("the hint after a saved run is a command that works as printed from a checkout; unsaved runs get none", async () => {
  await withDir(async (dir) => {
    const run = (cmd: string[]) => runDeno(cmd, { cwd: root });
    const saved = await run([
      "task",
      "-q",
      "switchyard",
      "run",
      nodesModule,
      "[1,2]",
      "x",
      "--dir",
      dir,
    ]);
    assert.equal(saved.code, 0, saved.stderr);
    const hint = saved.stderr.match(/^Saved run \S+: (.+) {2}\| {2}(.+)$/m);
    assert.ok(hint, saved.stderr);
    assert.match(hint[1], /^deno task switchyard inspect \S+ --dir /);
    // Typed back as printed, it works.
    const words = hint[1].split(" ");
    assert.equal(words[0], "deno");
    const inspected = await run([...words.slice(1)]);
    assert.equal(inspected.code, 0, inspected.stderr);
    assert.match(inspected.stdout, /doubleAll/);

    const unsaved = await run([
      "task",
      "-q",
      "switchyard",
      "run",
      nodesModule,
      "[1]",
      "y",
      "--no-save",
    ]);
    assert.equal(unsaved.code, 0, unsaved.stderr);
    assert.doesNotMatch(unsaved.stderr, /inspect/);
  });
});

Deno.test("hints name the command the CLI was started with: a checkout's task, a binary, or a URL", () => {
  const checkout = new URL("../src/cli/main.ts", import.meta.url).href;
  const base = { execPath: "/usr/bin/deno", path: "/usr/bin" };
  // From the checkout's folder, with the default folder: the plain task.
  assert.deepEqual(cliInvocation(".switchyard", { ...base, mainModule: checkout, cwd: root }), {
    command: "deno task switchyard",
    dirOption: "",
  });
  // Tasks run in the checkout's folder, so a relative --dir is spelled out in full.
  assert.deepEqual(
    cliInvocation("runs", { ...base, mainModule: checkout, cwd: join(root, "examples") }),
    { command: "deno task switchyard", dirOption: ` --dir ${join(root, "examples", "runs")}` },
  );
  // From outside the checkout, the task names its configuration.
  assert.deepEqual(cliInvocation(".switchyard", { ...base, mainModule: checkout, cwd: "/tmp" }), {
    command: `deno task --config ${join(root, "deno.json")} switchyard`,
    dirOption: " --dir /tmp/.switchyard",
  });
  // A compiled binary: its name when on PATH, else its path.
  const binary = { mainModule: "file:///tmp/deno-compile-switchyard/src/cli/main.ts", cwd: "/w" };
  assert.deepEqual(
    cliInvocation(".switchyard", { ...binary, execPath: "/opt/bin/switchyard", path: "/opt/bin" }),
    { command: "switchyard", dirOption: "" },
  );
  assert.equal(
    cliInvocation("x", { ...binary, execPath: "/opt/my bin/switchyard", path: "/usr/bin" })
      .command,
    "'/opt/my bin/switchyard'",
  );
  // From JSR: the package's cli export, at the version that ran.
  assert.equal(
    cliInvocation(".switchyard", {
      ...base,
      mainModule: "https://jsr.io/@switchyard/core/0.1.0/src/cli/main.ts",
      cwd: "/w",
    }).command,
    "deno run -A --unstable-worker-options jsr:@switchyard/core@0.1.0/cli",
  );
  // Run from a URL: that URL again.
  assert.deepEqual(
    cliInvocation("state", {
      ...base,
      mainModule: "https://example.test/switchyard/src/cli/main.ts",
      cwd: "/w",
    }),
    {
      command:
        "deno run -A --unstable-worker-options https://example.test/switchyard/src/cli/main.ts",
      dirOption: " --dir state",
    },
  );
});

Deno.test("switchyard viz on a port in use names the port and exits with 2", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const output = capture();
    const port = (taken.addr as Deno.NetAddr).port;
    assert.equal(await main(["viz", "--port", String(port)], { output }), 2);
    assert.equal(
      output.stderr,
      `Cannot serve the visualizer as '--port' must be free on 127.0.0.1 (or 0 for any free one): current value is ${port}\n`,
    );
  } finally {
    taken.close();
  }
});
