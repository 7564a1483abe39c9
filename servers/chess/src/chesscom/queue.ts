import { ChessComError } from "./errors.js";

/**
 * Runs tasks strictly one after another, in the order they were queued. Chess.com allows unlimited
 * serial requests and may refuse parallel ones, so every request goes through one of these.
 * A task whose signal aborts while it waits leaves the queue without ever running.
 */
export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;

  /** Tasks queued or running. */
  get length(): number {
    return this.pending;
  }

  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.pending++;
    const finish = () => {
      this.pending--;
      release();
    };
    return (async () => {
      try {
        await untilSettledOrAborted(previous, signal);
      } catch (error) {
        // The slot is only handed on once the task before it is really done.
        void previous.then(finish);
        throw error;
      }
      try {
        return await task();
      } finally {
        finish();
      }
    })();
  }
}

function untilSettledOrAborted(previous: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return previous;
  if (signal.aborted) return Promise.reject(cancelled());
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(cancelled());
    signal.addEventListener("abort", onAbort, { once: true });
    void previous.then(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    });
  });
}

export const cancelled = () => new ChessComError("cancelled", "The request was cancelled before it finished.");

/** Waits `ms`, or rejects as soon as the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(cancelled());
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelled());
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
