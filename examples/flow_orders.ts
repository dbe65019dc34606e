/**
 * A flow that `switchyard run` can run: the module's default export is a
 * `Flow`, and `args` is the schema its command-line argument must fit.
 *
 * ```sh
 * deno task switchyard run examples/flow_orders.ts '{"orders":[{"item":"tea","quantity":2}]}'
 * deno task run flow_orders          # the same job on sample orders, printed
 * ```
 *
 * Routines: **intake** emits each order, **price** prices it (its slot
 * checks the payload with a zod schema), **ledger** adds it up in the job's
 * shared data.
 *
 * @module
 */
import { z } from "npm:zod@^4.1.0";
import { Flow, Routine } from "../mod.ts";

const PRICES: Record<string, number> = { tea: 3, coffee: 4, cake: 5 };

const order = z.object({
  item: z.string().min(1),
  quantity: z.number().int().positive().default(1),
});

const orders = z.object({ orders: z.array(order).min(1) });

/** `switchyard run` checks its argument with this: one `{ orders }` object. */
export const args = z.tuple([orders]);

/** Emits every order of `entryParams.orders`. */
export class Intake extends Routine {
  constructor() {
    super();
    this.defineSlot("trigger", { schema: orders }, (params) => {
      for (const o of params.orders) this.emit("order", o);
    });
    this.defineEvent("order", ["item", "quantity"]);
  }
}

/** Prices an order; an unknown item is noted in the shared log and dropped. */
export class Price extends Routine {
  constructor() {
    super();
    this.defineSlot("input", { schema: order }, ({ item, quantity }) => {
      const unit = PRICES[item];
      if (unit === undefined) {
        this.getExecutionContext()!.jobState.appendToSharedLog({ unknownItem: item });
        return;
      }
      this.emit("priced", { item, quantity, amount: unit * quantity });
    });
    this.defineEvent("priced", ["item", "quantity", "amount"]);
  }
}

/** Adds priced orders up in the job's shared data (`total`, `lines`). */
export class Ledger extends Routine {
  constructor() {
    super();
    this.defineSlot("input", ({ item, amount }) => {
      const { jobState } = this.getExecutionContext()!;
      jobState.updateSharedData("total", jobState.getSharedData("total", 0) + (amount as number));
      jobState.updateSharedData("lines", [
        ...jobState.getSharedData<string[]>("lines", []),
        `${item}: ${amount}`,
      ]);
    });
  }
}

/**
 * Makes the flow: intake → price → ledger.
 *
 * @returns A new flow.
 */
export function ordersFlow(): Flow {
  const flow = new Flow({ flowId: "orders" });
  flow.addRoutine(new Intake(), "intake");
  flow.addRoutine(new Price(), "price");
  flow.addRoutine(new Ledger(), "ledger");
  flow.connect("intake", "order", "price", "input");
  flow.connect("price", "priced", "ledger", "input");
  return flow;
}

/** The flow `switchyard run` runs (its first routine, intake, is the entry). */
export default ordersFlow();

/**
 * Runs one job on sample orders and prints the total.
 *
 * @param _args Unused.
 */
export async function main(_args: string[]): Promise<void> {
  const flow = ordersFlow();
  const job = await flow.execute("intake", {
    entryParams: {
      orders: [{ item: "tea", quantity: 2 }, { item: "cake" }, { item: "scone" }],
    },
  });
  await flow.waitForCompletion({ jobState: job, timeout: 5_000 });
  console.log(`Job ${job.status}: total ${job.getSharedData("total")}`);
  console.log(`Lines: ${job.getSharedData<string[]>("lines").join(", ")}`);
  console.log(`Unknown items: ${job.getSharedLog().map((e) => e.unknownItem).join(", ")}`);
}
