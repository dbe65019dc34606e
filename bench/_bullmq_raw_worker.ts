/**
 * A bare BullMQ worker process for the remote benchmark's peer:
 * `deno run -A bench/_bullmq_raw_worker.ts <redis> <queue> <concurrency>`.
 * Returns `x + 1` for each job; prints "ready" on stderr; stops on SIGTERM.
 *
 * @module
 */
import { Worker } from "npm:bullmq@^6.7.0";
import { Redis } from "npm:ioredis@^5.4.0";

const [url, queue, concurrency] = Deno.args;
const worker = new Worker(queue, async (job) => job.data.x + 1, {
  connection: new Redis(url, { maxRetriesPerRequest: null }),
  prefix: "raw",
  concurrency: Number(concurrency),
});
await worker.waitUntilReady();
console.error("ready: serving queue");
const { promise, resolve } = Promise.withResolvers<void>();
Deno.addSignalListener("SIGTERM", () => resolve());
await promise;
await worker.close();
Deno.exit(0);
