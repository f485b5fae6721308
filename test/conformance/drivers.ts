/**
 * The loop drivers the conformance suite holds to the same scenarios. A driver is selected the way a
 * user selects it: by the Agent's `spec.framework` (and, for a framework's native mode, the fields
 * that point at the team's own code), laid over every agent of a scenario.
 */
import { join } from "node:path";
import { langGraphDriver } from "@freehold/adapter-langgraph";
import { openAiAgentsDriver } from "@freehold/adapter-openai-agents";
import { mastraDriver } from "@freehold/adapter-mastra";
import { vercelAiDriver } from "@freehold/adapter-vercel-ai";
import type { Framework } from "@freehold/api";
import type { LoopDriver } from "@freehold/runtime";

export interface DriverUnderTest {
  /** The column's name in the printed table. */
  readonly name: string;
  readonly framework: Framework;
  /** More Agent spec fields the driver needs (e.g. the native mode's code reference). */
  readonly spec?: Readonly<Record<string, unknown>>;
  /** Where the native mode's code is (`spec.code.module` is relative to it): test/conformance/native. */
  readonly codeRoot?: string;
  /** The worker's drivers besides the built-in loop: the framework's adapter. */
  readonly drivers?: readonly LoopDriver[];
}

/** The native columns' code (test/conformance/native), each column's module in it. */
const nativeCodeRoot = join(import.meta.dirname, "native");

/** Every driver a worker of this checkout can run. */
export const drivers: readonly DriverUnderTest[] = [
  { name: "built-in", framework: "freehold" },
  { name: "vercel-ai", framework: "vercel-ai", drivers: [vercelAiDriver] },
  {
    name: "vercel-ai-native",
    framework: "vercel-ai",
    spec: { code: { module: "vercel-ai.ts", export: "conformanceAgent" } },
    codeRoot: nativeCodeRoot,
    drivers: [vercelAiDriver],
  },
  { name: "langgraph", framework: "langgraph", drivers: [langGraphDriver] },
  { name: "openai-agents", framework: "openai-agents", drivers: [openAiAgentsDriver] },
  { name: "mastra", framework: "mastra", drivers: [mastraDriver] },
  {
    name: "openai-agents-native",
    framework: "openai-agents",
    spec: { code: { module: "openai-agents.ts", export: "agent" } },
    codeRoot: nativeCodeRoot,
    drivers: [openAiAgentsDriver],
  },
  {
    name: "mastra-native",
    framework: "mastra",
    spec: { code: { module: "mastra.ts", export: "conformance" } },
    codeRoot: nativeCodeRoot,
    drivers: [mastraDriver],
  },
  {
    name: "langgraph-native",
    framework: "langgraph",
    spec: { code: { module: "langgraph.ts", export: "conformance" } },
    codeRoot: nativeCodeRoot,
    drivers: [langGraphDriver],
  },
];
