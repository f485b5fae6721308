import { describe, expect, it } from "vitest";
import {
  runBlobsKey,
  runEventsKey,
  runKey,
  runMessagesKey,
  runOwnKeys,
  runPickupsKey,
  runStartedByKey,
} from "./keys.ts";

describe("a run's own keys", () => {
  it("are the keys of each of its parts, in the order a checkpoint declares them, all of one hash tag", () => {
    const keys = runOwnKeys("acme", "run-7");
    expect(keys).toEqual([
      runKey("acme", "run-7"),
      runEventsKey("acme", "run-7"),
      runStartedByKey("acme", "run-7"),
      runPickupsKey("acme", "run-7"),
      runMessagesKey("acme", "run-7"),
      runBlobsKey("acme", "run-7"),
    ]);
    const tags = new Set(keys.map((key) => /\{[^}]+\}/.exec(key)?.[0]));
    expect(tags.size).toBe(1);
    expect([...tags][0]).toMatch(/^\{acme\.\d+\}$/);
  });
});
