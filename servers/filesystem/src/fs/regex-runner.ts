/**
 * Runs a caller's regular expression in a worker thread with a deadline. JavaScript regexes can
 * backtrack for hours on a crafted pattern; in a worker that costs one thread, which is stopped at
 * the deadline, instead of the whole server.
 */
import { Worker } from "node:worker_threads";
import { FsError } from "../sandbox/errors.js";

/** Indexes (0-based) of the lines of `text` that `test` accepts, at most `maxHits` of them. */
export function matchingLines(text: string, test: (line: string) => boolean, maxHits: number): number[] {
  const hits: number[] = [];
  let start = 0;
  let line = 0;
  for (;;) {
    let end = text.indexOf("\n", start);
    const last = end === -1;
    if (last) end = text.length;
    if (last && start === end) break;
    if (test(text.slice(start, end))) {
      hits.push(line);
      if (hits.length >= maxHits) break;
    }
    if (last) break;
    start = end + 1;
    line++;
  }
  return hits;
}

// The worker scans lines exactly as the main thread does: its source carries matchingLines itself.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const re = new RegExp(workerData.source, workerData.flags);
const matchingLines = ${matchingLines.toString()};
parentPort.on("message", (batch) => {
  parentPort.postMessage(batch.map(({ text, maxHits }) => matchingLines(text, (line) => re.test(line), maxHits)));
});
`;

export class RegexRunner {
  private worker: Worker | undefined;
  private readonly deadlineMs: number;
  private readonly source: string;
  private readonly flags: string;

  constructor(source: string, flags: string, deadlineMs: number) {
    this.source = source;
    this.flags = flags;
    this.deadlineMs = deadlineMs;
  }

  /** Matches a batch of texts; refuses the pattern if the batch takes longer than the deadline. */
  async run(batch: ReadonlyArray<{ text: string; maxHits: number }>, signal?: AbortSignal): Promise<number[][]> {
    this.worker ??= new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { source: this.source, flags: this.flags },
      resourceLimits: { maxOldGenerationSizeMb: 256 },
    });
    const worker = this.worker;
    return new Promise<number[][]>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        worker.off("message", onMessage);
        worker.off("error", onError);
      };
      const onMessage = (result: number[][]) => {
        finish();
        resolve(result);
      };
      const onError = (error: Error) => {
        finish();
        this.close();
        reject(error);
      };
      const onAbort = () => {
        finish();
        this.close();
        reject(signal?.reason ?? new Error("aborted"));
      };
      const timer = setTimeout(() => {
        finish();
        this.close();
        reject(
          new FsError(
            "invalid_argument",
            `The regular expression took more than ${this.deadlineMs} ms on one batch of files and was stopped.`,
            {
              argument: "query",
              hint: "Simplify the pattern (avoid nested quantifiers such as (a+)+), or search with regex: false.",
            },
          ),
        );
      }, this.deadlineMs);
      worker.on("message", onMessage);
      worker.on("error", onError);
      signal?.addEventListener("abort", onAbort, { once: true });
      worker.postMessage(batch);
    });
  }

  close(): void {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) void worker.terminate();
  }
}
