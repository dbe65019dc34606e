import assert from "node:assert/strict";
import {
  AsyncExecutionStrategy,
  Coordinator,
  CoordinatorState,
  RequestFailure,
  RequestSuccess,
  RTPublisher,
  type RuntimeMessage,
  Task,
  type TaskExecutionStrategy,
} from "../engine.ts";
import { node } from "../mod.ts";

function started(strategies: Record<string, TaskExecutionStrategy>) {
  const publisher = new RTPublisher();
  publisher.start();
  const coordinator = new Coordinator(strategies);
  coordinator.start(publisher);
  return { publisher, coordinator };
}

Deno.test("Coordinator.submit() closes the job on success", async () => {
  const { publisher, coordinator } = started({
    async: new AsyncExecutionStrategy(),
  });
  await coordinator.submit(
    new Task("r1", node(async () => 5, { name: "five" }), []),
    "async",
  );
  const job = coordinator.state.getJob("r1")!;
  assert.equal(job.status, "closed");
  assert.equal(job.result, 5);
  assert.ok(job.endTime !== null && job.endTime >= job.startTime);
  await coordinator.shutdown();
  publisher.shutdown();
});

Deno.test("Coordinator.submit() closes the job on failure", async () => {
  const { publisher, coordinator } = started({
    async: new AsyncExecutionStrategy(),
  });
  const messages: RuntimeMessage[] = [];
  publisher.subscribe((m) => void messages.push(m));
  const boom = new Error("boom");
  await coordinator.submit(
    new Task(
      "r1",
      node(() => {
        throw boom;
      }, { name: "boom" }),
      [],
    ),
    "async",
  );
  assert.equal(coordinator.state.getJob("r1")?.status, "closed");
  assert.ok(
    messages[0] instanceof RequestFailure && messages[0].error === boom,
  );
  await coordinator.shutdown();
  publisher.shutdown();
});

Deno.test("Coordinator takes strategies it does not know", async () => {
  const seen: string[] = [];
  const remote: TaskExecutionStrategy = {
    execute: (task) => {
      seen.push(`${task.node.name}(${task.args.join(",")})`);
      return Promise.resolve("remote result");
    },
    shutdown: () => void seen.push("shutdown"),
  };
  const { publisher, coordinator } = started({
    async: new AsyncExecutionStrategy(),
    remote,
  });
  const done = publisher.listener((m) => m instanceof RequestSuccess);
  coordinator.submit(
    new Task("r1", node(() => 0, { name: "far" }), [1, 2]),
    "remote",
  );
  assert.equal(((await done) as RequestSuccess).result, "remote result");
  assert.deepEqual(coordinator.systemDetail(), {
    modes: ["async", "remote"],
    jobs: 1,
    open: 0,
  });
  await coordinator.shutdown();
  assert.deepEqual(seen, ["far(1,2)", "shutdown"]);
  publisher.shutdown();
});

Deno.test("Coordinator.submit() names the known modes for an unknown one", async () => {
  const { publisher, coordinator } = started({
    async: new AsyncExecutionStrategy(),
  });
  assert.throws(
    () =>
      coordinator.submit(
        new Task("r1", node(() => 0, { name: "w" }), []),
        "worker",
      ),
    /'mode' must be one of "async": current value is "worker"/,
  );
  assert.throws(() => coordinator.register("bad", {} as never), TypeError);
  await coordinator.shutdown();
  publisher.shutdown();
});

Deno.test("CoordinatorState.endJob() rejects unknown and closed jobs", () => {
  const state = CoordinatorState.empty();
  state.addJob(new Task("r1", node(() => 0, { name: "zero" }), []));
  assert.throws(
    () => state.addJob(new Task("r1", node(() => 0, { name: "zero" }), [])),
    /has one already/,
  );
  assert.throws(
    () => state.endJob("r2", 0),
    /'requestId' must name a known job: current value is "r2"/,
  );
  state.endJob("r1", 0);
  assert.throws(() => state.endJob("r1", 0), /job 'r1' is closed/);
  assert.equal(state.openCount, 0);
});

Deno.test("node() rejects bad options naming the option and value", () => {
  assert.throws(
    () => node(42 as never),
    /'fn' must be a function: current value is 42/,
  );
  assert.throws(() => node(async () => 1), /'name' must be given/);
  assert.throws(
    () => node(async () => 1, { name: "n", timeout: 0 }),
    /'timeout' must be positive: current value is 0/,
  );
  assert.throws(
    () => node(async () => 1, { name: "n", retries: 1.5 }),
    /'retries'/,
  );
  assert.throws(
    () => node(async () => 1, { name: "n", color: 1 } as never),
    /'color' must not be given/,
  );
});
