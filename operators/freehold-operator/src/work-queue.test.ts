import { afterEach, describe, expect, it, vi } from "vitest";
import { createWorkQueue } from "./work-queue.ts";

afterEach(() => {
  vi.useRealTimers();
});

describe("createWorkQueue", () => {
  it("queues a key once however often it is added", async () => {
    const queue = createWorkQueue();
    queue.add("acme/billing");
    queue.add("acme/billing");
    queue.add("acme/triage");
    expect(queue.length()).toBe(2);
    expect(await queue.get()).toBe("acme/billing");
    expect(await queue.get()).toBe("acme/triage");
    expect(queue.length()).toBe(0);
  });

  it("never hands out a key being worked on; re-queues it when done", async () => {
    const queue = createWorkQueue();
    queue.add("acme/billing");
    const key = await queue.get();
    queue.add("acme/billing");
    expect(queue.length()).toBe(0);
    queue.done(key ?? "");
    expect(queue.length()).toBe(1);
    expect(await queue.get()).toBe("acme/billing");
  });

  it("wakes a waiting worker", async () => {
    const queue = createWorkQueue();
    const next = queue.get();
    queue.add("acme/billing");
    expect(await next).toBe("acme/billing");
  });

  it("backs off a failing key exponentially until forgotten", () => {
    vi.useFakeTimers();
    const queue = createWorkQueue({ baseDelayMs: 100 });
    queue.addRateLimited("acme/billing");
    vi.advanceTimersByTime(99);
    expect(queue.length()).toBe(0);
    vi.advanceTimersByTime(1);
    expect(queue.length()).toBe(1);
    queue.addRateLimited("acme/triage");
    queue.addRateLimited("acme/triage");
    expect(queue.retries("acme/triage")).toBe(2);
    queue.forget("acme/triage");
    expect(queue.retries("acme/triage")).toBe(0);
  });

  it("keeps the earliest of several delayed adds", () => {
    vi.useFakeTimers();
    const queue = createWorkQueue();
    queue.addAfter("acme/billing", 10_000);
    queue.addAfter("acme/billing", 1_000);
    vi.advanceTimersByTime(1_000);
    expect(queue.length()).toBe(1);
  });

  it("hands out nothing once shut down", async () => {
    const queue = createWorkQueue();
    const waiting = queue.get();
    queue.shutDown();
    expect(await waiting).toBeUndefined();
    queue.add("acme/billing");
    expect(await queue.get()).toBeUndefined();
  });
});
