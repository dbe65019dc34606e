/**
 * The worker script of the workerpool peer in `workers_bench.ts`.
 *
 * @module
 */
import workerpool from "workerpool";

workerpool.worker({
  inc: (x: number) => x + 1,
  spin: (ms: number) => {
    const end = performance.now() + ms;
    let n = 0;
    while (performance.now() < end) n++;
    return n;
  },
});
