/**
 * A source → validator → aggregator workflow driven by `entryParams`:
 * invalid records are logged and dropped, valid ones aggregated.
 *
 * Run it with `deno task run flow_validation [minAge]`.
 *
 * @module
 */
import { Flow, Routine } from "../mod.ts";

/** A record to validate. */
export interface Person {
  name: string;
  age: number;
}

const PEOPLE: Person[] = [
  { name: "Ada", age: 36 },
  { name: "", age: 20 },
  { name: "Linus", age: 21 },
  { name: "Grace", age: -1 },
  { name: "Ken", age: 17 },
];

/** Emits each record of `entryParams.records`, passing `minAge` along. */
export class Source extends Routine {
  constructor() {
    super();
    this.defineSlot("trigger", ({ records, minAge }) => {
      const { jobState } = this.getExecutionContext()!;
      jobState.updateSharedData("minAge", minAge);
      for (const record of records as Person[]) this.emit("record", { record });
    });
    this.defineEvent("record", ["record"]);
  }
}

/** Checks each record; emits `valid` or logs why it was rejected. */
export class Validator extends Routine {
  constructor() {
    super();
    this.defineSlot("input", ({ record }) => {
      const { jobState, routineId } = this.getExecutionContext()!;
      const person = record as Person;
      const minAge = jobState.getSharedData("minAge", 0);
      const problem = person.name === ""
        ? "empty name"
        : person.age < 0
        ? "negative age"
        : person.age < minAge
        ? `younger than ${minAge}`
        : null;
      if (problem) {
        jobState.appendToSharedLog({ routine: routineId, person, problem });
      } else {
        this.emit("valid", { person });
      }
    });
    this.defineEvent("valid", ["person"]);
  }
}

/** Aggregates valid records: count, names and mean age. */
export class Aggregator extends Routine {
  constructor() {
    super();
    this.defineSlot("input", ({ person }) => {
      const { jobState, routineId } = this.getExecutionContext()!;
      const p = person as Person;
      const state = jobState.getRoutineState(routineId) ?? {};
      const names = [...((state.names ?? []) as string[]), p.name];
      const ageSum = ((state.ageSum ?? 0) as number) + p.age;
      jobState.updateRoutineState(routineId, { names, ageSum });
    });
  }
}

/**
 * Runs the workflow and prints the aggregate and the rejections.
 *
 * @param args `[minAge]`, default 18.
 */
export async function main(args: string[]): Promise<void> {
  const minAge = Number(args[0] ?? 18);
  const flow = new Flow({ flowId: "validation" });
  flow.addRoutine(new Source(), "source");
  flow.addRoutine(new Validator(), "validator");
  flow.addRoutine(new Aggregator(), "aggregator");
  flow.connect("source", "record", "validator", "input");
  flow.connect("validator", "valid", "aggregator", "input");

  const jobState = await flow.execute("source", {
    entryParams: { records: PEOPLE, minAge },
  });
  await flow.waitForCompletion({ timeout: 5000 });
  const { names = [], ageSum = 0 } = jobState.getRoutineState("aggregator") ??
    {};
  const valid = names as string[];
  console.log(`Status: ${jobState.status}`);
  console.log(`Valid: ${valid.length} (${valid.join(", ")})`);
  console.log(
    `Mean age: ${valid.length ? ((ageSum as number) / valid.length).toFixed(1) : "n/a"}`,
  );
  for (const entry of jobState.getSharedLog({ routine: "validator" })) {
    const person = entry.person as Person;
    console.log(`Rejected ${JSON.stringify(person.name)}: ${entry.problem}`);
  }
}
