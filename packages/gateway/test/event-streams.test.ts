/**
 * Event streams at scale over real HTTP and a real Redis: 2,000 SSE followers share the gateway's
 * one blocking reader (Redis client count checked with CLIENT LIST on the admin connection), each
 * gets its run's events to the end; a follower that stops reading is dropped instead of buffered
 * (the gateway's heap stays bounded while 48 MB of events go by), and resumes with Last-Event-ID.
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { RunEvent } from "@freehold/api";
import { runEventsKey } from "@freehold/handoff";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorization, idleAgent, readEvents, request, startHarness, type Harness } from "./harness.ts";

setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness({
    gateway: {
      maxBufferedEvents: 100,
      edge: { requestsPerSecond: 10_000, burst: 10_000, maxStreamsPerCaller: 5000 },
    },
  });
});

afterAll(async () => {
  await harness.close();
});

async function clients(): Promise<number> {
  return String(await harness.connection.call("CLIENT", "LIST"))
    .split("\n")
    .filter((line) => line.trim() !== "").length;
}

async function append(namespace: string, runId: string, event: RunEvent): Promise<string> {
  return (await harness.connection.xadd(
    runEventsKey(namespace, runId),
    "*",
    "event",
    JSON.stringify(event),
  )) as string;
}

function note(runId: string, text: string): RunEvent {
  return { runId, time: new Date().toISOString(), type: "run-start", agent: "idle", input: text };
}

function runEnd(runId: string): RunEvent {
  return {
    runId,
    time: new Date().toISOString(),
    type: "run-end",
    status: "completed",
    output: "done",
    usage: { inputTokens: 0, outputTokens: 0 },
    steps: 0,
  };
}

describe("event streams", () => {
  it("serves 2,000 followers over one blocking Redis connection, each to its run's end", async () => {
    const namespace = await idleAgent(harness);
    const runs = Array.from({ length: 20 }, (_, index) => `r${index}`);
    for (const runId of runs)
      await request(harness, "POST", `/v1/namespaces/${namespace}/agents/idle/runs`, {
        body: { input: "hi", runId },
      });
    const before = await clients();
    const headers = authorization(harness);
    // Opened 100 at a time: the listen backlog, not the gateway, limits simultaneous connects.
    const responses: Response[] = [];
    for (let batch = 0; batch < 2000; batch += 100) {
      responses.push(
        ...(await Promise.all(
          Array.from({ length: 100 }, (_, index) =>
            fetch(
              `${harness.url}/v1/namespaces/${namespace}/runs/${runs[(batch + index) % runs.length] ?? ""}/events`,
              {
                headers,
              },
            ),
          ),
        )),
      );
    }
    expect(responses.every((response) => response.status === 200)).toBe(true);
    const reading = responses.map((response) =>
      readEvents(response, (event) => (event.data as RunEvent).type === "run-end"),
    );
    // Every follower is attached and blocked on Redis: the reader is the only extra client.
    const during = await clients();
    expect(during - before).toBeLessThanOrEqual(1);
    expect(during).toBeLessThanOrEqual(5);
    for (const runId of runs) {
      await append(namespace, runId, note(runId, "news"));
      await append(namespace, runId, runEnd(runId));
    }
    const seen = await Promise.all(reading);
    for (const events of seen) {
      expect(events.map((event) => (event.data as RunEvent).type)).toEqual([
        "run-start",
        "run-start",
        "run-end",
      ]);
    }
    expect(await clients()).toBeLessThanOrEqual(5);
  }, 120_000);

  it("drops a follower that stops reading instead of buffering for it; it resumes with Last-Event-ID", async () => {
    const namespace = await idleAgent(harness);
    await request(harness, "POST", `/v1/namespaces/${namespace}/agents/idle/runs`, {
      body: { input: "hi", runId: "r" },
    });
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      httpRequest(
        `${harness.url}/v1/namespaces/${namespace}/runs/r/events`,
        { headers: authorization(harness) },
        resolve,
      )
        .on("error", reject)
        .end();
    });
    expect(response.statusCode).toBe(200);
    response.pause();
    collectGarbage();
    const baseline = process.memoryUsage().heapUsed;
    const text = "x".repeat(8 * 1024);
    for (let index = 0; index < 6000; index++) await append(namespace, "r", note("r", `${index} ${text}`));
    await append(namespace, "r", runEnd("r"));
    // 48 MB went by; the paused follower holds at most its bound (100 events, plus one read).
    await expect
      .poll(
        () => {
          collectGarbage();
          return process.memoryUsage().heapUsed - baseline;
        },
        { timeout: 20_000, interval: 200 },
      )
      .toBeLessThan(8 * 1024 * 1024);
    // Reading again: the events it got, then the error that says it was dropped, then the end.
    response.setEncoding("utf8");
    let body = "";
    response.on("data", (chunk: string) => (body += chunk));
    response.resume();
    await new Promise((resolve) => response.on("end", resolve));
    expect(body).toContain("event: error");
    expect(body).toContain("events.follower-dropped");
    const ids = [...body.matchAll(/^id: (.+)$/gm)].map((match) => match[1] ?? "");
    expect(ids.length).toBeLessThan(6001);
    const resumed = await fetch(`${harness.url}/v1/namespaces/${namespace}/runs/r/events`, {
      headers: { ...authorization(harness), "last-event-id": ids.at(-1) ?? "0-0" },
    });
    const rest = await readEvents(resumed);
    expect(ids.length + rest.length).toBe(6002);
    expect((rest.at(-1)?.data as RunEvent).type).toBe("run-end");
  }, 120_000);
});
