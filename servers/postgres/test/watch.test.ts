/** The watcher that stops cancelled and stalled calls, on a fake clock. */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CallWatcher, type StopReason } from "../src/db/watch.ts";

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("CallWatcher", () => {
  it("stops a call cancelled before its first tick at that tick", () => {
    const watcher = new CallWatcher(50);
    const stops: StopReason[] = [];
    const controller = new AbortController();
    watcher.watch(controller.signal, 60_000, (reason) => stops.push(reason));
    controller.abort();
    expect(stops).toEqual([]);
    vi.advanceTimersByTime(50);
    expect(stops).toEqual(["cancelled"]);
    vi.advanceTimersByTime(60_000);
    expect(stops).toEqual(["cancelled"]);
  });

  it("stops a longer call the moment it is cancelled", () => {
    const watcher = new CallWatcher(50);
    const stops: StopReason[] = [];
    const controller = new AbortController();
    watcher.watch(controller.signal, 60_000, (reason) => stops.push(reason));
    vi.advanceTimersByTime(120);
    controller.abort();
    expect(stops).toEqual(["cancelled"]);
  });

  it("stops a call that outlives its deadline", () => {
    const watcher = new CallWatcher(50);
    const stops: StopReason[] = [];
    watcher.watch(undefined, 1000, (reason) => stops.push(reason));
    vi.advanceTimersByTime(950);
    expect(stops).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(stops).toEqual(["stalled"]);
  });

  it("never stops a call that ended, and lets go of its signal", () => {
    const watcher = new CallWatcher(50);
    const stops: StopReason[] = [];
    const controller = new AbortController();
    const removed = vi.spyOn(controller.signal, "removeEventListener");
    const done = watcher.watch(controller.signal, 1000, (reason) => stops.push(reason));
    vi.advanceTimersByTime(100);
    done();
    expect(removed).toHaveBeenCalledWith("abort", expect.any(Function));
    controller.abort();
    vi.advanceTimersByTime(5000);
    expect(stops).toEqual([]);
  });

  it("keeps no timer running once no call is in flight", () => {
    const watcher = new CallWatcher(50);
    const done = watcher.watch(undefined, 1000, () => undefined);
    done();
    vi.advanceTimersByTime(50);
    expect(vi.getTimerCount()).toBe(0);
    watcher.watch(undefined, 1000, () => undefined);
    expect(vi.getTimerCount()).toBe(1);
    watcher.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});
