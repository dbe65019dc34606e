import assert from "node:assert/strict";
import { call, node, Runner, WorkerTaskError } from "../mod.ts";

/** One sandbox escape attempt per operation, each a worker node with no permissions. */
const attempts = {
  readFile: node(function readFile(path: string) {
    return Deno.readTextFileSync(path).length;
  }, { worker: true, permissions: "none" }),
  writeFile: node(function writeFile(path: string) {
    Deno.writeTextFileSync(path, "escaped");
    return "written";
  }, { worker: true, permissions: "none" }),
  connect: node(async function connect(port: number) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return "connected";
  }, { worker: true, permissions: "none" }),
  readEnv: node(function readEnv(name: string) {
    return Deno.env.get(name) ?? "unset";
  }, { worker: true, permissions: "none" }),
  runProcess: node(function runProcess(exec: string) {
    return new Deno.Command(exec, { args: ["--version"] }).outputSync().code;
  }, { worker: true, permissions: "none" }),
};

Deno.test("A worker node with permissions 'none' is denied files, sockets, env and subprocesses; the host is not", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-sandbox-" });
  const secret = `${dir}/secret.txt`;
  const target = `${dir}/written.txt`;
  await Deno.writeTextFile(secret, "host data");
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) accepted.push(conn);
  })();
  Deno.env.set("SWITCHYARD_SANDBOX_SECRET", "host env");
  const args: Record<keyof typeof attempts, unknown> = {
    readFile: secret,
    writeFile: target,
    connect: listener.addr.port,
    readEnv: "SWITCHYARD_SANDBOX_SECRET",
    runProcess: Deno.execPath(),
  };
  const tryAll = node(async function tryAll() {
    const outcomes: Record<string, unknown> = {};
    for (const [name, attempt] of Object.entries(attempts)) {
      const untyped = attempt as unknown as Parameters<typeof call<[unknown], unknown>>[0];
      outcomes[name] = await call(untyped, args[name as keyof typeof attempts])
        .catch((e) => e);
    }
    return outcomes;
  }, { name: "tryAll" });
  try {
    await using runner = new Runner({ workers: { size: 1 }, loggingSetting: "NONE" });
    const info = await runner.run(tryAll);
    const outcomes = info.answer as Record<string, unknown>;
    for (const name of Object.keys(attempts)) {
      const error = outcomes[name];
      assert.ok(error instanceof WorkerTaskError, `${name}: ${String(error)}`);
      assert.equal((error.cause as Error).name, "NotCapable", `${name}: ${error.message}`);
      assert.match(error.message, new RegExp(`'${name}' failed on worker #\\d+: threw NotCapable`));
      const [record] = [...info.requestHeap.values()].filter((r) =>
        info.nodeHeap.get(r.sinkId)?.name === name
      );
      assert.equal(record.status, "Failed", name);
      assert.equal(record.output, error);
    }
    assert.equal(info.requestHeap.insertionRequests[0].status, "Completed");

    // The host still can do each.
    assert.equal(await Deno.readTextFile(secret), "host data");
    await Deno.writeTextFile(target, "host wrote");
    assert.equal(await Deno.readTextFile(target), "host wrote");
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
    conn.close();
    assert.equal(Deno.env.get("SWITCHYARD_SANDBOX_SECRET"), "host env");
    const { code } = await new Deno.Command(Deno.execPath(), { args: ["--version"] }).output();
    assert.equal(code, 0);
  } finally {
    Deno.env.delete("SWITCHYARD_SANDBOX_SECRET");
    listener.close();
    await accepting;
    for (const conn of accepted) conn.close();
    await Deno.remove(dir, { recursive: true });
  }
  // Only the host's own connection was ever accepted.
  assert.equal(accepted.length, 1);
});
