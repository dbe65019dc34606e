/**
 * Per-routine counters kept in the JobState: each routine counts the
 * activations it handled and the values it let through.
 *
 * Run it with `deno task run flow_counters [n]`.
 *
 * @module
 */
import { Flow, type JobState, Routine } from "../mod.ts";

function bump(jobState: JobState, routineId: string, field: string): void {
  const state = jobState.getRoutineState(routineId) ?? {};
  jobState.updateRoutineState(routineId, {
    [field]: ((state[field] ?? 0) as number) + 1,
  });
}

/** Emits the numbers 1..n. */
export class Counter extends Routine {
  constructor() {
    super();
    this.defineSlot("trigger", ({ n }) => {
      const { jobState, routineId } = this.getExecutionContext()!;
      for (let i = 1; i <= (n as number); i++) {
        bump(jobState, routineId, "emitted");
        this.emit("number", { value: i });
      }
    });
    this.defineEvent("number", ["value"]);
  }
}

/** Lets even numbers through. */
export class EvenFilter extends Routine {
  constructor() {
    super();
    this.defineSlot("input", ({ value }) => {
      const { jobState, routineId } = this.getExecutionContext()!;
      bump(jobState, routineId, "seen");
      if ((value as number) % 2 === 0) {
        bump(jobState, routineId, "passed");
        this.emit("even", { value });
      }
    });
    this.defineEvent("even", ["value"]);
  }
}

/** Counts what reaches it. */
export class Sink extends Routine {
  constructor() {
    super();
    this.defineSlot("input", () => {
      const { jobState, routineId } = this.getExecutionContext()!;
      bump(jobState, routineId, "received");
    });
  }
}

/**
 * Runs the counters flow twice at once and prints each job's counters.
 *
 * @param args `[n]`, how many numbers the first job counts (default 10).
 */
export async function main(args: string[]): Promise<void> {
  const n = Number(args[0] ?? 10);
  const flow = new Flow({ flowId: "counters" });
  flow.addRoutine(new Counter(), "counter");
  flow.addRoutine(new EvenFilter(), "filter");
  flow.addRoutine(new Sink(), "sink");
  flow.connect("counter", "number", "filter", "input");
  flow.connect("filter", "even", "sink", "input");

  const jobs = [
    await flow.execute("counter", { entryParams: { n } }),
    await flow.execute("counter", { entryParams: { n: 3 } }),
  ];
  await flow.waitForCompletion({ timeout: 5000 });
  for (const job of jobs) {
    console.log(`Job ${job.jobId.slice(0, 8)} (${job.status}):`);
    for (const id of flow.routineIds) {
      const counters = job.getRoutineState(id) ?? {};
      console.log(`  ${id.padEnd(8)} ${JSON.stringify(counters)}`);
    }
  }
}
