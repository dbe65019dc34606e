/**
 * Execution history filtered by routine: every emit is recorded with its
 * routine, event, payload and time.
 *
 * Run it with `deno task run flow_history [text]`.
 *
 * @module
 */
import { Flow, Routine } from "../mod.ts";

/** Emits each line of `entryParams.text`. */
export class Lines extends Routine {
  constructor() {
    super();
    this.defineSlot("trigger", ({ text }) => {
      for (const line of String(text).split("\n")) this.emit("line", { line });
    });
    this.defineEvent("line", ["line"]);
  }
}

/** Emits the length of each line, and flags empty lines. */
export class Measure extends Routine {
  constructor() {
    super();
    this.defineSlot("input", ({ line }) => {
      const length = String(line).trim().length;
      if (length === 0) this.emit("empty", {});
      else this.emit("length", { length });
    });
    this.defineEvent("length", ["length"]);
    this.defineEvent("empty");
  }
}

/**
 * Runs the flow and prints the history of each routine.
 *
 * @param args Text whose lines are measured (joined with spaces); a default
 *   text when empty.
 */
export async function main(args: string[]): Promise<void> {
  const text = args.length
    ? args.join(" ").replaceAll("\\n", "\n")
    : "first line\n\nthe third line\nlast";
  const flow = new Flow({ flowId: "history" });
  flow.addRoutine(new Lines(), "lines");
  flow.addRoutine(new Measure(), "measure");
  flow.connect("lines", "line", "measure", "input");

  const jobState = await flow.execute("lines", { entryParams: { text } });
  await flow.waitForCompletion({ timeout: 5000 });
  console.log(
    `Status: ${jobState.status}; ${jobState.getExecutionHistory().length} records`,
  );
  for (const routineId of flow.routineIds) {
    const records = jobState.getExecutionHistory(routineId);
    console.log(`${routineId}: ${records.length} records`);
    for (const record of records) {
      console.log(`  ${record.eventName} ${JSON.stringify(record.data)}`);
    }
  }
  const lengths = jobState.getExecutionHistory("measure")
    .filter((r) => r.eventName === "length")
    .map((r) => r.data.length as number);
  console.log(`Total length: ${lengths.reduce((a, b) => a + b, 0)}`);
}
