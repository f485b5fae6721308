import { describe, expect, it } from "vitest";
import { touchedKeys, type EnqueueEffect } from "./redis-effects.ts";

/** An enqueue effect on the queue of `prefix` (the fields touchedKeys does not read are placeholders). */
function enqueue(prefix: string, jobId: string): EnqueueEffect {
  return {
    op: "enqueue",
    key: `${prefix}wait`,
    prefix,
    jobId,
    name: "run",
    timestamp: 0,
    data: "{}",
    opts: {},
  };
}

const queueKeys = (prefix: string): string[] =>
  ["wait", "paused", "meta", "id", "completed", "delayed", "active", "events", "marker"].map(
    (type) => prefix + type,
  );

describe("touchedKeys", () => {
  it("names each key of the preconditions and effects once, in the order first touched", () => {
    expect(
      touchedKeys(
        [{ key: "a", equals: "1" }],
        [
          { op: "set", key: "b", value: "x" },
          { op: "del", key: "a" },
          { op: "zadd", key: "c", score: 1, member: "m" },
          { op: "set", key: "b", value: "y" },
        ],
      ),
    ).toEqual(["a", "b", "c"]);
    expect(touchedKeys([], [])).toEqual([]);
  });

  it("names the nine keys of an enqueue effect's queue, the same for every job of that queue", () => {
    const prefix = "freehold:acme:agent:{acme.billing}:";
    const first = touchedKeys([], [{ op: "del", key: "run" }, enqueue(prefix, "r.1")]);
    expect(first).toEqual(["run", ...queueKeys(prefix)]);
    // Made once per queue and kept: a later job of the queue names the same keys, a copy each time.
    const second = touchedKeys([], [enqueue(prefix, "r.2")]);
    expect(second).toEqual(queueKeys(prefix));
    second.push("changed by a caller");
    expect(touchedKeys([], [enqueue(prefix, "r.3")])).toEqual(queueKeys(prefix));
    // Another queue has its own.
    const other = "freehold:acme:agent:{acme.support}:";
    expect(touchedKeys([], [enqueue(prefix, "r.4"), enqueue(other, "r.5")])).toEqual([
      ...queueKeys(prefix),
      ...queueKeys(other),
    ]);
  });
});
