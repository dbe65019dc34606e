/**
 * The runtime's lines about a request carry its trace and span ids when
 * exported: a state's transitions, and the replacement of a Web Worker or
 * a child process whose node timed out. Runs in a subprocess with Deno's
 * built-in exporter pointed at a receiver in this test.
 */
import assert from "node:assert/strict";
import { type OtlpLog, type OtlpSpan, startReceiver } from "./helpers/otlp.ts";

const fixture = new URL("./fixtures/traced_logs.ts", import.meta.url).pathname;
const config = new URL("../deno.json", import.meta.url).pathname;

function lineAbout(logs: OtlpLog[], pattern: RegExp): OtlpLog {
  const line = logs.find((l) => pattern.test(l.body?.stringValue ?? ""));
  assert.ok(line, `no exported line matches ${pattern}`);
  return line;
}

function assertIn(line: OtlpLog, span: OtlpSpan | undefined): void {
  assert.ok(span, "the request's span was exported");
  assert.equal(line.traceId, span.traceId);
  assert.equal(line.spanId, span.spanId);
}

Deno.test("State transitions and pool replacements are logged in the request's span", async () => {
  await using receiver = startReceiver();
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-worker-options", "--config", config, fixture],
    env: receiver.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const span = (name: string) =>
    receiver.spans.find((s) => s.scope === "switchyard" && s.name === name);

  assertIn(
    lineAbout(receiver.logs, /switchyard\.states: State migrate completed/),
    span("migrate"),
  );
  assertIn(
    lineAbout(receiver.logs, /switchyard\.workers: Worker #\d+ terminated( and replaced)?: /),
    span("hangInWorker"),
  );
  assertIn(
    lineAbout(
      receiver.logs,
      /switchyard\.workers: Child process #\d+ \(pid \d+\) killed( and replaced)?: /,
    ),
    span("spinInProcess"),
  );
});
