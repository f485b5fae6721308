import { describe, expect, it } from "vitest";
import { egressRuleForUrl, internetPeers, mergeEgressRules, namespacePeer } from "./network-egress.ts";

describe("egressRuleForUrl", () => {
  it("sends an in-cluster Service to its namespace on the URL's port", () => {
    expect(egressRuleForUrl("http://vllm.models.svc:8000/v1")).toEqual({
      to: [namespacePeer("models")],
      ports: [{ protocol: "TCP", port: 8000 }],
    });
    expect(egressRuleForUrl("https://search.tools.svc.cluster.local/mcp")).toEqual({
      to: [namespacePeer("tools")],
      ports: [{ protocol: "TCP", port: 443 }],
    });
  });

  it("sends an IP literal to that address alone", () => {
    expect(egressRuleForUrl("http://10.1.2.3:11434/v1")).toEqual({
      to: [{ ipBlock: { cidr: "10.1.2.3/32" } }],
      ports: [{ protocol: "TCP", port: 11434 }],
    });
    expect(egressRuleForUrl("http://[fd00::7]:8080/mcp")).toEqual({
      to: [{ ipBlock: { cidr: "fd00::7/128" } }],
      ports: [{ protocol: "TCP", port: 8080 }],
    });
  });

  it("sends an external host to the internet without private ranges, on its port", () => {
    const rule = egressRuleForUrl("https://api.openai.com/v1");
    expect(rule).toEqual({ to: internetPeers(), ports: [{ protocol: "TCP", port: 443 }] });
    const except = rule?.to[0]?.ipBlock?.except ?? [];
    expect(except).toEqual(
      expect.arrayContaining([
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "127.0.0.0/8",
        "169.254.0.0/16",
      ]),
    );
  });

  it("needs nothing for a bare Service name (the namespace's own) or a URL it cannot read", () => {
    expect(egressRuleForUrl("http://billing-mcp:8080/mcp")).toBeUndefined();
    expect(egressRuleForUrl("not a url")).toBeUndefined();
    expect(egressRuleForUrl("ftp://files.example.com/x")).toBeUndefined();
  });
});

describe("mergeEgressRules", () => {
  it("joins the ports of rules with the same peers, and keeps all-ports rules whole", () => {
    const merged = mergeEgressRules([
      { to: [namespacePeer("models")], ports: [{ protocol: "TCP", port: 8000 }] },
      { to: [namespacePeer("models")], ports: [{ protocol: "TCP", port: 443 }] },
      { to: [namespacePeer("models")], ports: [{ protocol: "TCP", port: 8000 }] },
      { to: [namespacePeer("acme")] },
      { to: [namespacePeer("acme")], ports: [{ protocol: "TCP", port: 80 }] },
    ]);
    expect(merged).toEqual([
      { to: [namespacePeer("acme")] },
      {
        to: [namespacePeer("models")],
        ports: [
          { protocol: "TCP", port: 443 },
          { protocol: "TCP", port: 8000 },
        ],
      },
    ]);
  });
});
