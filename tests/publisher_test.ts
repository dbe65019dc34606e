import assert from "node:assert/strict";
import { Publisher, PublisherShutdownError } from "../engine.ts";

Deno.test("Publisher.publish() delivers in publish order, also when re-entered", () => {
  const publisher = new Publisher<number>();
  publisher.start();
  const first: number[] = [];
  const second: number[] = [];
  publisher.subscribe((n) => {
    first.push(n);
    if (n === 1) publisher.publish(10); // published while 1 is being delivered
  });
  publisher.subscribe((n) => void second.push(n));
  publisher.publish(1);
  publisher.publish(2);
  assert.deepEqual(first, [1, 10, 2]);
  assert.deepEqual(second, [1, 10, 2]);
  publisher.shutdown();
});

Deno.test("Publisher.publish() isolates a throwing or rejecting subscriber", async () => {
  const publisher = new Publisher<string>();
  publisher.start();
  const seen: string[] = [];
  publisher.subscribe(() => {
    throw new Error("sync boom");
  }, "thrower");
  publisher.subscribe(
    () => Promise.reject(new Error("async boom")),
    "rejecter",
  );
  publisher.subscribe(() => new Promise(() => {}), "hanger");
  publisher.subscribe((m) => void seen.push(m), "collector");
  publisher.publish("a");
  publisher.publish("b");
  await Promise.resolve();
  assert.deepEqual(seen, ["a", "b"]);
  publisher.shutdown();
});

Deno.test("Publisher.listener() resolves with the first match, mapped", async () => {
  const publisher = new Publisher<number>();
  publisher.start();
  const even = publisher.listener((n) => n % 2 === 0, (n) => `even ${n}`);
  publisher.publish(1);
  publisher.publish(4);
  publisher.publish(6);
  assert.equal(await even, "even 4");
  publisher.shutdown();
});

Deno.test("Publisher.shutdown() rejects waiting listeners and is safe twice", async () => {
  const publisher = new Publisher<number>();
  publisher.start();
  const waiting = publisher.listener(() => false);
  publisher.shutdown();
  publisher.shutdown();
  await assert.rejects(waiting, PublisherShutdownError);
  assert.equal(publisher.isRunning, false);
  assert.throws(() => publisher.publish(1), /must be running/);
  await assert.rejects(publisher.listener(() => true), PublisherShutdownError);
});

Deno.test("Publisher.unsubscribe() stops delivery and rejects unknown ids", () => {
  const publisher = new Publisher<number>();
  publisher.start();
  const seen: number[] = [];
  const id = publisher.subscribe((n) => void seen.push(n));
  publisher.publish(1);
  publisher.unsubscribe(id);
  publisher.publish(2);
  assert.deepEqual(seen, [1]);
  assert.throws(() => publisher.unsubscribe(id), RangeError);
  assert.throws(() => publisher.subscribe("no" as never), TypeError);
  publisher.shutdown();
});

Deno.test("Publisher.subscribe() with topics takes only those topics, in order with the rest", () => {
  const publisher = new Publisher<{ kind: string; n: number }>({ topicOf: (m) => m.kind });
  publisher.start();
  const seen: string[] = [];
  publisher.subscribe((m) => void seen.push(`all:${m.n}`), "all");
  publisher.subscribe((m) => void seen.push(`odd:${m.n}`), "odd", { topics: ["odd"] });
  assert.equal(publisher.hasSubscribers("even"), true); // "all" takes every topic
  publisher.publish({ kind: "odd", n: 1 });
  publisher.publish({ kind: "even", n: 2 });
  assert.deepEqual(seen, ["all:1", "odd:1", "all:2"]);
  publisher.shutdown();
});

Deno.test("Publisher.hasSubscribers() tells whether a topic reaches anyone", async () => {
  const publisher = new Publisher<{ kind: string }>({ topicOf: (m) => m.kind });
  publisher.start();
  assert.equal(publisher.hasSubscribers("a"), false);
  const id = publisher.subscribe(() => {}, "a-only", { topics: ["a"] });
  assert.equal(publisher.hasSubscribers("a"), true);
  assert.equal(publisher.hasSubscribers("b"), false);
  const waiting = publisher.listener((m) => m.kind === "b");
  assert.equal(publisher.hasSubscribers("b"), true);
  publisher.publish({ kind: "b" });
  await waiting;
  publisher.unsubscribe(id);
  assert.equal(publisher.hasSubscribers("a"), false);
  assert.throws(
    () => new Publisher<number>().subscribe(() => {}, "x", { topics: ["a"] }),
    /'topics' must be an array given to a publisher with 'topicOf'/,
  );
  publisher.shutdown();
});
