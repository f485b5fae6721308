/**
 * The framework adapters a worker of this command loads: only those its agents' `spec.framework`
 * asks for, when it starts (a worker of built-in agents never loads one). A framework without an
 * adapter here is refused by the worker for each of its runs (`runtime.framework-unavailable`).
 *
 * @module
 */
import type { Framework } from "@freehold/api";
import type { LoopDriver, ResolvedAgent } from "@freehold/runtime";

const adapters: Partial<Record<Framework, () => Promise<LoopDriver>>> = {
  "vercel-ai": async () => (await import("@freehold/adapter-vercel-ai")).vercelAiDriver,
  langgraph: async () => (await import("@freehold/adapter-langgraph")).langGraphDriver,
  "openai-agents": async () => (await import("@freehold/adapter-openai-agents")).openAiAgentsDriver,
  mastra: async () => (await import("@freehold/adapter-mastra")).mastraDriver,
};

/** The drivers the agents need besides the built-in loop. */
export async function adapterDrivers(agents: readonly ResolvedAgent[]): Promise<LoopDriver[]> {
  const frameworks = new Set(agents.map((agent) => agent.spec.framework));
  const drivers: LoopDriver[] = [];
  for (const framework of frameworks) {
    const load = adapters[framework];
    if (load !== undefined) drivers.push(await load());
  }
  return drivers;
}
