/**
 * Process isolation: worker nodes with `isolation: "process"` run in child
 * `deno` processes; running out of memory or spinning forever costs only
 * that process.
 */
import assert from "node:assert/strict";
import {
  BroadcastEvent,
  ProcessExecutionStrategy,
  RequestCreation,
  RequestFailure,
  Task,
} from "../engine.ts";
import {
  call,
  GlobalTimeoutError,
  node,
  NodeTimeoutError,
  Runner,
  State,
  StateManager,
  WorkerTaskError,
} from "../mod.ts";
import {
  announceAndSpin,
  failsWithCause,
  hog,
  pidAndDouble,
  readsSome,
  readsWithNone,
  spin,
  waitsForSignal,
} from "./fixtures/process_nodes.ts";
import { neverStarts } from "./fixtures/process_exits_at_start.ts";
import { withStartImports } from "../src/execution/_process_permissions.ts";

const quiet = { loggingSetting: "NONE" as const };

/**
 * Whether the child process with this pid still runs. On Linux, /proc
 * tells a running child apart from one killed but not yet reaped (a zombie,
 * state `Z`) and from a pid the kernel has since given to another process
 * or thread (pids wrap at 32,768 here, and every thread takes one): only
 * a live process-isolation child (its command line names
 * `process_port.ts`) counts.
 */
function isAlive(pid: number): boolean {
  let stat: string;
  let cmdline: string;
  try {
    stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    // No /proc (not Linux): whether the pid takes a signal.
    try {
      Deno.kill(pid, "SIGCONT");
      return true;
    } catch {
      return false;
    }
  }
  const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  return state !== "Z" && cmdline.includes("process_port.ts");
}

function record(runner: Runner, name: string) {
  const found = [...runner.info.requestHeap.values()].find((r) =>
    runner.info.nodeHeap.get(r.sinkId)?.name === name
  );
  assert.ok(found, `no request to '${name}'`);
  return found;
}

Deno.test("A node that runs out of memory fails with reason out-of-memory; the run completes its other work", async () => {
  const quick = node(async (x: number) => x + 1, { name: "quick" });
  const survivor = node(async function survivor() {
    const [oom, one, two] = await Promise.all([
      call(hog).catch((e) => e),
      call(quick, 0),
      call(pidAndDouble, 1),
    ]);
    return { oom, one, two };
  });
  await using runner = new Runner({ workers: { size: 2 }, ...quiet });
  const info = await runner.run(survivor);
  const { oom, one, two } = info.answer as {
    oom: WorkerTaskError;
    one: number;
    two: { doubled: number };
  };
  assert.ok(oom instanceof WorkerTaskError, String(oom));
  assert.equal(oom.reason, "out-of-memory");
  assert.match(
    oom.message,
    /Worker node 'hog' failed in child process #\d+ \(pid \d+\): its process ran out of memory/,
  );
  assert.equal(isAlive(oom.pid!), false);
  assert.equal(one, 1);
  assert.equal(two.doubled, 2);
  assert.equal(info.status, "Completed");
  assert.equal(record(runner, "hog").status, "Failed");
  // The next process-isolated task gets a fresh process.
  const again = (await runner.run(pidAndDouble, 5)).answer;
  assert.deepEqual(again.doubled, 10);
});

Deno.test("A node stuck in a synchronous loop is killed with SIGKILL at its node timeout", async () => {
  const limited = node(spin.fn, {
    name: "spin",
    worker: spin.moduleUrl!,
    isolation: "process",
    timeout: 300,
  });
  let pid: number;
  let next: { doubled: number; pid: number };
  {
    await using runner = new Runner({ workers: { size: 1 }, ...quiet });
    const error = await runner.run(limited).catch((e) => e);
    assert.ok(error instanceof NodeTimeoutError, String(error));
    assert.match(error.message, /in child process #\d+ \(pid \d+\)/);
    pid = Number(/pid (\d+)/.exec(error.message)![1]);
    // The pool holds a fresh process for the next task.
    next = (await runner.run(pidAndDouble, 2)).answer;
    assert.equal(next.doubled, 4);
    assert.notEqual(next.pid, pid);
    // The pool keeps its fresh child warm: the check tells a live one.
    assert.equal(isAlive(next.pid), true);
  }
  // The run fails at its timeout, when SIGKILL is sent; the process is gone
  // by the time the runner's shutdown ends, which waits for every child's
  // exit, the killed one's included.
  assert.equal(isAlive(pid), false);
  assert.equal(isAlive(next.pid), false);
});

/** A task stopped by hand, that says when its node broadcasts. */
class StoppableTask extends Task {
  readonly controller = new AbortController();
  readonly spinning = Promise.withResolvers<void>();
  override get signal(): AbortSignal {
    return this.controller.signal;
  }
  override broadcast(): void {
    this.spinning.resolve();
  }
}

Deno.test("A run timeout and a cancellation SIGKILL a spinning process; the strategy says why", async () => {
  const strategy = new ProcessExecutionStrategy({ size: 1, gracePeriod: 50 });
  try {
    for (
      const [reason, expected] of [
        [new GlobalTimeoutError(1), "timeout"],
        [new Error("cancelled by test"), "cancelled"],
      ] as const
    ) {
      const task = new StoppableTask("r1", announceAndSpin, []);
      const running = strategy.execute(task).catch((e) => e);
      await task.spinning.promise;
      task.controller.abort(reason);
      const error = await running;
      assert.ok(error instanceof WorkerTaskError);
      assert.equal(error.reason, expected);
      assert.match(error.message, /its process was killed with SIGKILL/);
      assert.equal(isAlive(error.pid!), false);
    }
    const next = await strategy.execute(new Task("r3", failsWithCause, [])).catch((
      e: WorkerTaskError,
    ) => e);
    assert.equal((next as WorkerTaskError).reason, "threw");
  } finally {
    await strategy.shutdown();
  }
  assert.equal(strategy.processCount, 0);
});

Deno.test("A run timeout ends a spinning process-isolated node and the runner shuts down cleanly", async () => {
  await using runner = new Runner({ workers: { size: 1 }, timeout: 500, ...quiet });
  const error = await runner.run(spin).catch((e) => e);
  assert.ok(error instanceof GlobalTimeoutError, String(error));
  assert.equal(record(runner, "spin").status, "Cancelled");
});

Deno.test("currentSignal() aborts in the child, and broadcast() reaches the parent", async () => {
  const started = Promise.withResolvers<string>();
  let requestId = "";
  const ended = Promise.withResolvers<RequestFailure>();
  await using runner = new Runner({
    workers: { size: 1, gracePeriod: 5_000 },
    ...quiet,
    subscriber: (m) => {
      if (m instanceof RequestCreation && m.nodeName === "waitsForSignal") {
        requestId = m.requestId;
      }
      if (m instanceof BroadcastEvent && m.item === "listening") started.resolve(requestId);
      if (m instanceof RequestFailure) ended.resolve(m);
    },
  });
  const run = runner.run(waitsForSignal).catch((e) => e);
  runner.rtState.cancel(await started.promise, new Error("stop"));
  assert.match(String(await run), /was cancelled: stop/);
  // The node saw its signal abort in the child and ended on its own: its
  // error is the node's, not a kill.
  const failure = await ended.promise;
  assert.match(String(failure.error), /threw Error: saw /);
  assert.equal((failure.error as WorkerTaskError).reason, "threw");
});

Deno.test("Permissions narrower than the host's hold in the child process", async () => {
  await using runner = new Runner({ workers: { size: 2 }, ...quiet });
  const own = new URL("./fixtures/process_nodes.ts", import.meta.url).pathname;
  const none = await runner.run(readsWithNone, own).catch((e) => e);
  assert.ok(none instanceof WorkerTaskError);
  assert.equal((none.cause as Error).name, "NotCapable");
  // Allowed: a file under the fixtures folder. Denied: this test file.
  const allowed = (await runner.run(readsSome, own)).answer;
  assert.match(String(allowed), /Process-isolated worker nodes/);
  const denied = await runner.run(readsSome, new URL(import.meta.url).pathname).catch((e) => e);
  assert.ok(denied instanceof WorkerTaskError);
  assert.equal((denied.cause as Error).name, "NotCapable");
});

Deno.test("Permissions wider than the host's are refused before a process starts", () => {
  const strategy = new ProcessExecutionStrategy({ size: 1 });
  const wide = node(() => 1, {
    name: "wide",
    worker: true,
    isolation: "process",
    permissions: { read: ["/definitely/not/allowed"], ffi: true, bogus: true },
  });
  return strategy.execute(new Task("r1", wide, [])).then(
    () => assert.fail("ran"),
    (error) => {
      assert.ok(error instanceof WorkerTaskError);
      assert.equal(error.reason, "spawn");
      assert.match(error.message, /'permissions\.bogus' is not a permission/);
      assert.equal(strategy.processCount, 0);
    },
  ).finally(() => strategy.shutdown());
});

Deno.test("Processes are warm: one process serves consecutive tasks", async () => {
  await using runner = new Runner({ workers: { size: 1 }, ...quiet });
  const pids = new Set<number>();
  for (let i = 0; i < 5; i++) {
    pids.add((await runner.run(pidAndDouble, i)).answer.pid);
  }
  assert.equal(pids.size, 1);
  assert.notEqual([...pids][0], Deno.pid);
});

Deno.test("A process-isolated node's error keeps its own stack and cause chain", async () => {
  await using runner = new Runner({ workers: { size: 1 }, ...quiet });
  const error = await runner.run(failsWithCause).catch((e) => e);
  assert.ok(error instanceof WorkerTaskError);
  assert.equal(error.reason, "threw");
  const cause = error.cause as Error;
  assert.equal(cause.name, "TypeError");
  assert.match(cause.stack!, /process_nodes\.ts/);
  assert.equal((cause.cause as Error).name, "RangeError");
});

Deno.test("A child that exits as it starts is explained by its error line, not a stack frame", async () => {
  await using runner = new Runner({ workers: { size: 1 }, ...quiet });
  const error = await runner.run(neverStarts).catch((e) => e);
  assert.ok(error instanceof WorkerTaskError);
  assert.equal(error.reason, "exited");
  assert.match(error.message, /its process exited with code 3: error: the child cannot start$/);
});

Deno.test("A child may import the modules it starts with from their http hosts, and no more", () => {
  const urls = ["http://127.0.0.1:8766/workers/bootstrap.ts", "file:///app/nodes.ts"];
  assert.deepEqual(withStartImports([], urls), ["--allow-import=127.0.0.1:8766"]);
  assert.deepEqual(
    withStartImports(["--allow-read", "--allow-import=example.com"], [...urls, ""]),
    ["--allow-read", "--allow-import=example.com,127.0.0.1:8766"],
  );
  assert.deepEqual(withStartImports(["--allow-import=127.0.0.1:8766"], urls), [
    "--allow-import=127.0.0.1:8766",
  ]);
  assert.deepEqual(withStartImports(["--allow-import"], urls), ["--allow-import"]);
  assert.deepEqual(withStartImports(["--allow-env"], ["file:///a.ts"]), ["--allow-env"]);
});

Deno.test("isolation is validated: only worker nodes, only known values", () => {
  assert.throws(
    () => node(() => 1, { name: "a", isolation: "process" }),
    /Cannot create node 'a' as 'isolation' must be set only on a worker node/,
  );
  assert.throws(
    // @ts-expect-error: not an isolation level
    () => node(() => 1, { name: "b", worker: true, isolation: "vm" }),
    /'isolation' must be one of "worker", "process": current value is "vm"/,
  );
  assert.throws(
    () => node(() => 1, { name: "c", worker: true, heapLimit: 1 }),
    /'heapLimit' must be/,
  );
});

Deno.test("A blocking state whose node runs out of memory in its process fails; the manager goes on", async () => {
  await StateManager.reset();
  const manager = StateManager.instance({ loggingSetting: "NONE", workers: { size: 1 } });
  try {
    const hungry = new State("Hungry", hog, { isBlocking: true });
    const after = new State("After", pidAndDouble, { isBlocking: true, args: [21] });
    manager.putStates([hungry, after]);
    const loop = manager.processStates();
    const error = await manager.resultOf(hungry).catch((e) => e);
    assert.ok(error instanceof WorkerTaskError, String(error));
    assert.equal(error.reason, "out-of-memory");
    assert.equal(((await manager.resultOf(after)) as { doubled: number }).doubled, 42);
    await manager.signalStopping();
    await loop;
  } finally {
    await StateManager.reset();
  }
});
