import { describe, expect, it } from "vitest";
import { startDeadline } from "./deadline.ts";

const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("startDeadline", () => {
  it("aborts with a TimeoutError when the time runs out", async () => {
    const deadline = startDeadline(5);
    await wait(50);
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.timedOut()).toBe(true);
    expect((deadline.signal.reason as DOMException).name).toBe("TimeoutError");
  });

  it("aborts with the reason given for a timeout", async () => {
    const reason = new Error("too slow");
    const deadline = startDeadline(5, undefined, () => reason);
    await wait(50);
    expect(deadline.signal.reason).toBe(reason);
    expect(deadline.timedOut()).toBe(true);
  });

  it("aborts with the parent's reason when the parent aborts first, and says the time did not run out", () => {
    const parent = new AbortController();
    const deadline = startDeadline(60_000, parent.signal);
    const reason = new Error("shutting down");
    parent.abort(reason);
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.signal.reason).toBe(reason);
    expect(deadline.timedOut()).toBe(false);
    deadline.clear();
  });

  it("starts aborted under a parent that already is", () => {
    const deadline = startDeadline(60_000, AbortSignal.abort("gone"));
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.signal.reason).toBe("gone");
    deadline.clear();
  });

  it("once cleared, neither its clock nor its parent aborts it (the work is over)", async () => {
    const parent = new AbortController();
    const deadline = startDeadline(5, parent.signal);
    deadline.clear();
    await wait(50);
    parent.abort(new Error("later"));
    expect(deadline.signal.aborted).toBe(false);
    expect(deadline.timedOut()).toBe(false);
  });
});
