/**
 * Shared data and a shared log across two routines fed by one source: a
 * stats routine and an audit routine both receive every reading.
 *
 * Run it with `deno task run flow_shared_data [reading…]`.
 *
 * @module
 */
import { Flow, Routine } from "../mod.ts";

/** Emits each reading of `entryParams.readings`. */
export class Sensor extends Routine {
  constructor() {
    super();
    this.defineSlot("trigger", ({ readings }) => {
      for (const value of readings as number[]) {
        this.emit("reading", { value });
      }
    });
    this.defineEvent("reading", ["value"]);
  }
}

/** Keeps the running sum and maximum in shared data. */
export class Stats extends Routine {
  constructor() {
    super();
    this.defineSlot("input", ({ value }) => {
      const { jobState, routineId } = this.getExecutionContext()!;
      const v = value as number;
      jobState.updateSharedData("sum", jobState.getSharedData("sum", 0) + v);
      jobState.updateSharedData(
        "max",
        Math.max(jobState.getSharedData("max", -Infinity), v),
      );
      jobState.appendToSharedLog({ routine: routineId, action: "added", v });
    });
  }
}

/** Logs readings above the threshold in shared data. */
export class Audit extends Routine {
  constructor() {
    super();
    this.defineSlot("input", ({ value }) => {
      const { jobState, routineId } = this.getExecutionContext()!;
      const limit = jobState.getSharedData("limit", 50);
      if ((value as number) > limit) {
        jobState.appendToSharedLog({
          routine: routineId,
          action: "alert",
          v: value,
        });
      }
    });
  }
}

/**
 * Runs the flow and prints the shared data and the shared log.
 *
 * @param args Readings; a default series when empty.
 */
export async function main(args: string[]): Promise<void> {
  const readings = args.length ? args.map(Number) : [12, 70, 33, 95, 8];
  const flow = new Flow({ flowId: "shared_data_flow" });
  const sensor = flow.addRoutine(new Sensor(), "sensor");
  flow.addRoutine(new Stats(), "stats");
  flow.addRoutine(new Audit(), "audit");
  flow.connect(sensor, "reading", "stats", "input");
  flow.connect(sensor, "reading", "audit", "input");

  const jobState = await flow.execute(sensor, { entryParams: { readings } });
  await flow.waitForCompletion({ timeout: 5000 });
  console.log(`Status: ${jobState.status}`);
  console.log(
    `Shared data: sum=${jobState.getSharedData("sum")} max=${jobState.getSharedData("max")}`,
  );
  const log = jobState.getSharedLog();
  console.log(`Shared log: ${log.length} entries`);
  const alerts = jobState.getSharedLog({ action: "alert" });
  console.log(`Alerts: ${alerts.map((e) => e.v).join(", ")}`);
  console.log(
    `Entries per routine: stats=${
      jobState.getSharedLog((e) => e.routine === "stats").length
    } audit=${alerts.length}`,
  );
}
