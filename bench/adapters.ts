/**
 * adapters: per framework, what Freehold's durability costs a team that brings its framework. The
 * same conversation as loop-overhead (10 tool-calling steps, then an answer) against the scripted
 * model server on loopback and the counter MCP server in this process (over streamable HTTP):
 *
 * - bare (the baseline): the framework used as its documentation shows, with its own runner and its
 *   own OpenAI-compatible provider, and the MCP SDK's `Client.callTool` as the tool: AI SDK's
 *   `generateText` on `@ai-sdk/openai-compatible`; LangGraph's ReAct graph (`StateGraph`, a
 *   `ChatOpenAI` model node, a `ToolNode`); the OpenAI Agents SDK's `Runner` with its
 *   `OpenAIChatCompletionsModel` on the official client; a Mastra `Agent` on the AI SDK's
 *   OpenAI-compatible provider;
 * - Freehold: the same agent (`spec.framework` set to the framework) on the path real workers take:
 *   `startRun` queues the run and a runtime worker with the framework's driver picks it from BullMQ,
 *   runs the framework's loop with a durable checkpoint at every model call and tool call in a real
 *   `redis-server`; the clock stops when the worker logs the run's end.
 *
 * Interleaved, `BENCH_ROUNDS` (30) rounds after 5 warm-up rounds; medians of ms per step (model
 * call). `BENCH_FRAMEWORKS` (comma-separated) measures only those frameworks. Goal: each ratio <= 1.25. Prints progress, then one JSON line
 * `{framework: {bareMsPerStep, freeholdMsPerStep, ratio}}`.
 */
// First, as the `freehold worker` process: zod reads it as it builds the schemas other modules build.
import "@freehold/api/interpreted-parsing";
import { randomUUID } from "node:crypto";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { langGraphDriver } from "@freehold/adapter-langgraph";
import { mastraDriver } from "@freehold/adapter-mastra";
import { openAiAgentsDriver } from "@freehold/adapter-openai-agents";
import { vercelAiDriver } from "@freehold/adapter-vercel-ai";
import {
  createAgentQueues,
  createQuotas,
  createRunStore,
  startRedisServer,
  startRun,
  connectRedis,
} from "@freehold/handoff";
import { startScriptedModelServer } from "@freehold/models";
import { createRuntime, createRuntimeWorker, type LoopDriver } from "@freehold/runtime";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { generateText, jsonSchema, stepCountIs, tool } from "ai";
import { AIMessage, type BaseMessage } from "@langchain/core/messages";
import { tool as langChainTool } from "@langchain/core/tools";
import { END, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { ToolNode } from "@langchain/langgraph/prebuilt";
import { ChatOpenAI } from "@langchain/openai";
import { Agent as MastraAgent } from "@mastra/core/agent";
import type { MastraModelConfig } from "@mastra/core/llm";
import { createTool } from "@mastra/core/tools";
import {
  Agent as OpenAiAgent,
  Runner,
  tool as openAiTool,
  type JsonSchemaDefinition,
} from "@openai/agents-core";
import { OpenAIChatCompletionsModel } from "@openai/agents-openai";
import OpenAI from "openai";
import { startCounterServer } from "../test/fixtures/mcp/counter-server.ts";
import { benchConfig, median, runEnds, timePerStep, type Timed } from "./worker-process.ts";

const steps = 10;
const rounds = Number(process.env.BENCH_ROUNDS ?? 30);
const goalRatio = 1.25;
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

const model = await startScriptedModelServer({
  script: {
    turns: [
      ...Array.from({ length: steps }, (_, index) => ({
        toolCalls: [{ name: "add", arguments: { a: index, b: 1 } }],
      })),
      { text: "done" },
    ],
  },
});
const counter = await startCounterServer({ transport: "http" });
const redis = await startRedisServer();
const connection = connectRedis(redis.url, { maxRetriesPerRequest: null });
const store = createRunStore(connection);
const queues = createAgentQueues(connection);
// Runs start as the gateway starts them: one Quotas (its tenancy cache) for every request.
const quotas = createQuotas(connection);

// The bare tool: the MCP SDK's client on the counter server's `add`.
const client = new Client({ name: "bare", version: "1.0.0" });
await client.connect(new StreamableHTTPClientTransport(new URL(counter.url)));
const addTool = (await client.listTools()).tools.find((candidate) => candidate.name === "add");
if (addTool === undefined) throw new Error("the counter server has no add tool");
const callAdd = async (input: Record<string, unknown>): Promise<string> => {
  const output = await client.callTool({ name: "add", arguments: input });
  return (output.content as { text?: string }[]).map((block) => block.text ?? "").join("");
};

/** One framework: its bare loop (returns the model calls it made) and its Freehold driver. */
interface Framework {
  readonly name: "vercel-ai" | "langgraph" | "openai-agents" | "mastra";
  readonly bare: () => Promise<number>;
  readonly driver: LoopDriver;
}

const openaiCompatible = createOpenAICompatible({ name: "scripted", baseURL: model.baseUrl });
const frameworks: Framework[] = [
  {
    name: "vercel-ai",
    driver: vercelAiDriver,
    bare: async () => {
      const result = await generateText({
        model: openaiCompatible.chatModel("scripted-model"),
        instructions: "Add.",
        prompt: "Count to ten.",
        tools: {
          add: tool({
            description: addTool.description ?? "",
            inputSchema: jsonSchema(addTool.inputSchema as Parameters<typeof jsonSchema>[0]),
            execute: (input) => callAdd(input as Record<string, unknown>),
          }),
        },
        stopWhen: stepCountIs(steps + 5),
        maxRetries: 0,
      });
      return result.steps.length;
    },
  },
];

// LangGraph's ReAct graph as its documentation builds it: a ChatOpenAI model node and a ToolNode.
const langChainAdd = langChainTool((input: Record<string, unknown>) => callAdd(input), {
  name: "add",
  description: addTool.description ?? "",
  schema: addTool.inputSchema,
});
const chat = new ChatOpenAI({
  model: "scripted-model",
  apiKey: "unused",
  maxRetries: 0,
  configuration: { baseURL: model.baseUrl },
}).bindTools([langChainAdd]);
const reactGraph = new StateGraph(MessagesAnnotation)
  .addNode("model", async (state) => ({ messages: [await chat.invoke(state.messages)] }))
  .addNode("tools", new ToolNode([langChainAdd]))
  .addEdge(START, "model")
  .addConditionalEdges("model", (state) => {
    const last = state.messages.at(-1);
    return last instanceof AIMessage && (last.tool_calls?.length ?? 0) > 0 ? "tools" : END;
  })
  .addEdge("tools", "model")
  .compile();
frameworks.push({
  name: "langgraph",
  driver: langGraphDriver,
  bare: async () => {
    const { messages } = await reactGraph.invoke(
      {
        messages: [
          { role: "system", content: "Add." },
          { role: "user", content: "Count to ten." },
        ],
      },
      { recursionLimit: 4 * steps },
    );
    return messages.filter((message: BaseMessage) => message instanceof AIMessage).length;
  },
});

// The OpenAI Agents SDK's runner with its Chat Completions model on the official client.
const openAiAgent = new OpenAiAgent({
  name: "adder",
  instructions: "Add.",
  model: new OpenAIChatCompletionsModel(
    new OpenAI({ baseURL: model.baseUrl, apiKey: "unused", maxRetries: 0 }),
    "scripted-model",
  ),
  tools: [
    openAiTool({
      name: "add",
      description: addTool.description ?? "",
      parameters: addTool.inputSchema as Extract<
        JsonSchemaDefinition["schema"],
        { additionalProperties: true }
      >,
      strict: false,
      execute: (input) => callAdd(input as Record<string, unknown>),
    }),
  ],
});
const openAiRunner = new Runner({ tracingDisabled: true });
frameworks.push({
  name: "openai-agents",
  driver: openAiAgentsDriver,
  bare: async () => {
    const result = await openAiRunner.run(openAiAgent, "Count to ten.", { maxTurns: steps + 5 });
    return result.rawResponses.length;
  },
});

// A Mastra agent on the AI SDK's OpenAI-compatible provider.
const mastraAgent = new MastraAgent({
  id: "adder",
  name: "adder",
  instructions: "Add.",
  // Mastra carries an older copy of the provider types (see the Mastra adapter's mastraModel).
  model: openaiCompatible.chatModel("scripted-model") as unknown as MastraModelConfig,
  tools: {
    add: createTool({
      id: "add",
      description: addTool.description ?? "",
      inputSchema: addTool.inputSchema as NonNullable<Parameters<typeof createTool>[0]["inputSchema"]>,
      execute: (input: unknown) => callAdd(input as Record<string, unknown>),
    }),
  },
  maxRetries: 0,
});
frameworks.push({
  name: "mastra",
  driver: mastraDriver,
  bare: async () => {
    const result = await mastraAgent.generate("Count to ten.", { maxSteps: steps + 5 });
    return result.steps.length;
  },
});

// BENCH_FRAMEWORKS=mastra,langgraph: only these (default: all four).
const only = process.env.BENCH_FRAMEWORKS?.split(",").map((name) => name.trim());
if (only !== undefined) {
  const unknown = only.filter((name) => !frameworks.some((framework) => framework.name === name));
  if (unknown.length > 0) {
    throw new Error(
      `BENCH_FRAMEWORKS names ${unknown.join(", ")}; use ${frameworks.map((framework) => framework.name).join(", ")}`,
    );
  }
  frameworks.splice(0, frameworks.length, ...frameworks.filter((framework) => only.includes(framework.name)));
}

/** Freehold's side of each framework: a runtime and a worker in namespace `bench-<framework>`. */
const ends = runEnds();
const workerConnection = connectRedis(redis.url, { maxRetriesPerRequest: null });
const closers: (() => Promise<void>)[] = [];
const durable = new Map<string, () => Promise<Timed>>();
for (const framework of frameworks) {
  const namespace = `bench-${framework.name}`;
  const config = benchConfig(model.baseUrl, counter.url, { maxSteps: steps + 5 }, namespace);
  const runtime = await createRuntime(
    {
      ...config,
      agents: config.agents.map((agent) => ({
        ...agent,
        spec: { ...agent.spec, framework: framework.name },
      })),
    },
    { resolveSecret: () => Promise.reject(new Error("the bench uses no Secret")) },
  );
  const worker = createRuntimeWorker({
    connection: workerConnection,
    store: createRunStore(workerConnection),
    agents: runtime.agents,
    drivers: [framework.driver],
    log: ends.log,
  });
  await worker.ready();
  closers.push(async () => {
    await worker.close();
    await runtime.close();
  });
  durable.set(framework.name, async () => {
    const id = randomUUID();
    const done = ends.end(id);
    await startRun(
      { redis: connection, store, queues, quotas },
      { runId: id, namespace, agent: "adder", input: "Count to ten." },
    );
    // The clock stops when the worker logs the run's end; the check after it is not timed.
    const { line, at } = await done;
    const state = await store.require(namespace, id);
    if (state.status !== "completed") throw new Error(`run ended ${state.status}: ${line}`);
    return { modelCalls: state.steps, endedAt: at };
  });
}

/** {@link timePerStep}, after checking the loop made the conversation's model calls. */
function msPerStep(loop: () => Promise<Timed>): Promise<number> {
  return timePerStep(async () => {
    const timed = await loop();
    const modelCalls = typeof timed === "number" ? timed : timed.modelCalls;
    if (modelCalls !== steps + 1)
      throw new Error(`expected ${steps + 1} model calls, the loop made ${modelCalls}`);
    return timed;
  });
}

log(
  `adapters: ${frameworks.map((framework) => framework.name).join(", ")}; ${rounds} rounds after 5 warm-up rounds`,
);
const samples = new Map(
  frameworks.map((framework) => [framework.name, { bare: [] as number[], freehold: [] as number[] }]),
);
for (let round = -5; round < rounds; round += 1) {
  for (const framework of frameworks) {
    const bareMs = await msPerStep(framework.bare);
    const freeholdMs = await msPerStep(durable.get(framework.name) ?? framework.bare);
    if (round < 0) continue;
    samples.get(framework.name)?.bare.push(bareMs);
    samples.get(framework.name)?.freehold.push(freeholdMs);
  }
  if ((round + 1) % 10 === 0 && round >= 0) log(`  ${round + 1}/${rounds} rounds`);
}

const round3 = (value: number): number => Math.round(value * 1000) / 1000;
const results: Record<
  string,
  { bareMsPerStep: number; freeholdMsPerStep: number; ratio: number; goalMet: boolean }
> = {};
for (const [name, { bare, freehold }] of samples) {
  const bareMs = median(bare);
  const freeholdMs = median(freehold);
  const ratio = freeholdMs / bareMs;
  results[name] = {
    bareMsPerStep: round3(bareMs),
    freeholdMsPerStep: round3(freeholdMs),
    ratio: round3(ratio),
    goalMet: ratio <= goalRatio,
  };
  log(
    `${name}: bare ${round3(bareMs)} ms/step, Freehold durable ${round3(freeholdMs)} ms/step, ratio ${round3(ratio)} (goal <= ${goalRatio})`,
  );
}

for (const close of closers) await close();
await client.close();
await queues.close();
workerConnection.disconnect();
connection.disconnect();
await redis.stop();
await counter.close();
await model.close();
console.log(JSON.stringify(results));
