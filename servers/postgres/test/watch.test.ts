/** The watcher that stops cancelled and stalled calls, on a fake clock. */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CallWatcher, type StopReason } from "../src/db/watch.ts";

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

/** One call under a watcher ticking every 50 ms; `stops` records why it was stopped. */
function watched(signal?: AbortSignal, stallAfterMs = 60_000) {
  const watcher = new CallWatcher(50);
  const stops: StopReason[] = [];
  const done = watcher.watch(signal, stallAfterMs, (reason) => stops.push(reason));
  return { watcher, stops, done };
}

describe("CallWatcher", () => {
  it("stops a call cancelled before its first tick at that tick", () => {
    const controller = new AbortController();
    const { stops } = watched(controller.signal);
    controller.abort();
    expect(stops).toEqual([]);
    vi.advanceTimersByTime(50);
    expect(stops).toEqual(["cancelled"]);
    vi.advanceTimersByTime(60_000);
    expect(stops).toEqual(["cancelled"]);
  });

  it("stops a longer call the moment it is cancelled", () => {
    const controller = new AbortController();
    const { stops } = watched(controller.signal);
    vi.advanceTimersByTime(120);
    controller.abort();
    expect(stops).toEqual(["cancelled"]);
  });

  it("stops a call that outlives its deadline", () => {
    const { stops } = watched(undefined, 1000);
    vi.advanceTimersByTime(950);
    expect(stops).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(stops).toEqual(["stalled"]);
  });

  it("never stops a call that ended, and lets go of its signal", () => {
    const controller = new AbortController();
    const removed = vi.spyOn(controller.signal, "removeEventListener");
    const { stops, done } = watched(controller.signal, 1000);
    vi.advanceTimersByTime(100);
    done();
    expect(removed).toHaveBeenCalledWith("abort", expect.any(Function));
    controller.abort();
    vi.advanceTimersByTime(5000);
    expect(stops).toEqual([]);
  });

  it("keeps no timer running once no call is in flight", () => {
    const { watcher, done } = watched(undefined, 1000);
    done();
    vi.advanceTimersByTime(50);
    expect(vi.getTimerCount()).toBe(0);
    const next = watcher.watch(undefined, 1000, () => undefined);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(50);
    expect(vi.getTimerCount()).toBe(1);
    next();
    vi.advanceTimersByTime(50);
    expect(vi.getTimerCount()).toBe(0);
  });
});
