// Routine slots with a zod schema: the handler gets the parsed, typed
// payload; a payload that does not fit fails the activation, naming the
// slot, the field and the value.
import assert from "node:assert/strict";
import { z } from "zod";
import { Flow, Routine } from "../mod.ts";

const order = z.object({ item: z.string(), quantity: z.number().int().positive().default(1) });

class Orders extends Routine {
  received: Array<{ item: string; quantity: number }> = [];
  constructor() {
    super();
    this.defineSlot("trigger", { schema: order }, (data) => {
      // Typed: `data.quantity` is a number (the default applied), `data.item` a string.
      const quantity: number = data.quantity;
      this.received.push({ item: data.item.toUpperCase(), quantity });
      // @ts-expect-error: the schema has no field 'price'
      data.price;
    });
  }
}

Deno.test("a slot with a schema gets the parsed payload", async () => {
  const flow = new Flow({ flowId: "orders" });
  const orders = new Orders();
  flow.addRoutine(orders, "orders");
  const job = await flow.execute("orders", { entryParams: { item: "tea" } });
  await flow.waitForCompletion({ jobState: job, timeout: 5_000 });
  assert.equal(job.status, "completed");
  assert.deepEqual(orders.received, [{ item: "TEA", quantity: 1 }]);
});

Deno.test("a payload that does not fit the slot's schema fails the job, naming the field", async () => {
  const flow = new Flow({ flowId: "orders" });
  const orders = new Orders();
  flow.addRoutine(orders, "orders");
  const job = await flow.execute("orders", { entryParams: { item: "tea", quantity: "two" } });
  await flow.waitForCompletion({ jobState: job, timeout: 5_000 });
  assert.equal(job.status, "failed");
  assert.deepEqual(orders.received, []);
  const failed = [...flow.info(job).requestHeap.values()].find((r) => r.status === "Failed");
  assert.equal(
    (failed?.output as Error).message,
    `Cannot run slot 'trigger' of routine 'Orders' as 'quantity' must be a number: current value is "two"`,
  );
});

Deno.test("defineSlot() with a schema rejects a missing handler or a non-schema", () => {
  const routine = new Routine();
  assert.throws(
    () => routine.defineSlot("a", { schema: order }, undefined as never),
    /slot 'a' of routine 'Routine' as 'handler' must be a function: current value is undefined/,
  );
  assert.throws(
    () => routine.defineSlot("b", { schema: 3 } as never, () => {}),
    /slot 'b' of routine 'Routine' as 'schema' must be a zod schema: current value is 3/,
  );
  assert.deepEqual(routine.slots, []);
});
