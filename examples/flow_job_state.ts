/**
 * Reading a JobState after a run: status, timestamps, history, routine
 * states, shared data, and the tracked requests of the execution.
 *
 * Run it with `deno task run flow_job_state [word…]`.
 *
 * @module
 */
import { Flow, Routine } from "../mod.ts";

/** Splits its text into words and emits each one. */
export class Splitter extends Routine {
  constructor() {
    super();
    this.defineSlot("trigger", ({ text }) => {
      for (const word of String(text).split(/\s+/).filter(Boolean)) {
        this.emit("word", { word });
      }
    });
    this.defineEvent("word", ["word"]);
  }
}

/** Counts letters of every word it receives into shared data. */
export class LetterCounter extends Routine {
  constructor() {
    super();
    this.defineSlot("input", ({ word }) => {
      const { jobState, routineId } = this.getExecutionContext()!;
      const letters = jobState.getSharedData("letters", 0) +
        String(word).length;
      jobState.updateSharedData("letters", letters);
      jobState.updateRoutineState(routineId, { lastWord: word });
    });
  }
}

/**
 * Runs the flow and prints what its JobState holds.
 *
 * @param args Words to count; a default sentence when empty.
 */
export async function main(args: string[]): Promise<void> {
  const text = args.length ? args.join(" ") : "routines wired into a flow";
  const flow = new Flow({ flowId: "job_state_demo" });
  flow.addRoutine(new Splitter(), "splitter");
  flow.addRoutine(new LetterCounter(), "counter");
  flow.connect("splitter", "word", "counter", "input");

  const jobState = await flow.execute("splitter", { entryParams: { text } });
  console.log(`Job ${jobState.jobId} started: ${jobState.status}`);
  const finished = await flow.waitForCompletion({ timeout: 5000 });
  console.log(`Finished in time: ${finished}; status: ${jobState.status}`);
  console.log(`Words emitted: ${jobState.getExecutionHistory().length}`);
  console.log(`Letters counted: ${jobState.getSharedData("letters")}`);
  console.log(
    `Counter state: ${JSON.stringify(jobState.getRoutineState("counter"))}`,
  );
  console.log(
    `Ran ${jobState.updatedAt - jobState.createdAt} ms (${
      new Date(jobState.createdAt).toISOString()
    } → ${new Date(jobState.updatedAt).toISOString()})`,
  );
  const info = flow.info(jobState);
  console.log(
    `Tracked ${info.requestHeap.size} activations; engine status ${info.status}`,
  );
}
