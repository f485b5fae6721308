import { describe, expect, it } from "vitest";
import { agentQuotaStanding } from "./agent-quota.ts";

const agents = [
  { namespace: "acme-staging", name: "late", creationTimestamp: "2026-01-01T10:00:02Z" },
  { namespace: "acme", name: "first", creationTimestamp: "2026-01-01T10:00:00Z" },
  { namespace: "acme", name: "b", creationTimestamp: "2026-01-01T10:00:01Z" },
  { namespace: "acme", name: "a", creationTimestamp: "2026-01-01T10:00:01Z" },
];

describe("agentQuotaStanding", () => {
  it("lets the oldest Agents in, then orders by namespace and name", () => {
    expect(agentQuotaStanding(agents, { namespace: "acme", name: "first" }, 2)).toEqual({
      exceeded: false,
      position: 1,
      count: 4,
    });
    expect(agentQuotaStanding(agents, { namespace: "acme", name: "a" }, 2)).toMatchObject({
      exceeded: false,
      position: 2,
    });
    expect(agentQuotaStanding(agents, { namespace: "acme", name: "b" }, 2)).toMatchObject({
      exceeded: true,
      position: 3,
    });
    expect(agentQuotaStanding(agents, { namespace: "acme-staging", name: "late" }, 4)).toMatchObject({
      exceeded: false,
      position: 4,
    });
  });

  it("puts an Agent without a creation time last, and a quota of 0 refuses all", () => {
    const withNew = [...agents, { namespace: "acme", name: "new" }];
    expect(agentQuotaStanding(withNew, { namespace: "acme", name: "new" }, 4)).toMatchObject({
      exceeded: true,
      position: 5,
    });
    expect(agentQuotaStanding(agents, { namespace: "acme", name: "first" }, 0).exceeded).toBe(true);
  });
});
