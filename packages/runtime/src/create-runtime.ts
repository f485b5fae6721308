/**
 * Turns a {@link RuntimeConfig} into agents ready to run: each Model becomes a LanguageModel (with
 * its fallbacks), each MCPServer a pooled connection, each Agent a ResolvedAgent whose tool broker
 * enforces its allow-lists. Every reference is checked here, so a bad configuration is refused when
 * the worker starts, with a message that names the agent and the missing resource.
 *
 * @module
 */
import {
  agentToolCycle,
  FreeholdError,
  type AgentCode,
  type RuntimeConfig,
  type SecretKeySelector,
} from "@freehold/api";
import {
  connectionFromSpec,
  createMcpPool,
  createToolBroker,
  type InProcessMcpConnection,
  type McpConnection,
  type McpPool,
  type McpPoolOptions,
} from "@freehold/mcp";
import { createLanguageModel, httpFetch, withFallbacks, type LanguageModel } from "@freehold/models";
import { loadAgentCode } from "./agent-code.ts";
import type { ResolvedAgent } from "./loop-driver.ts";
import { specialTools, type Directory } from "./special-tools.ts";

/** Options of {@link createRuntime}. */
export interface CreateRuntimeOptions {
  /** Reads a Secret key (API keys, MCP headers). */
  readonly resolveSecret: (reference: SecretKeySelector) => Promise<string>;
  /** Where the local provider finds fetched GGUF models. */
  readonly modelsDirectory?: string;
  /** Options of the MCP pool (stderr of stdio servers, status changes). */
  readonly mcp?: McpPoolOptions;
  /**
   * The fetch models and MCP servers are reached with. Default: the models' `httpFetch`, over
   * `node:http` (a worker never loads the global fetch's connection machinery: 3.5 MiB less idle).
   */
  readonly fetch?: typeof fetch;
  /**
   * Where agents' own framework code is (`spec.code.module` is relative to it): the folder under
   * `freehold dev`; default: the working directory.
   */
  readonly codeRoot?: string;
  /**
   * MCP servers of this namespace served in this process (tools written in TypeScript, under
   * `freehold dev`), by MCPServer name: reached through the transport `connect` gives, not the
   * spec's URL.
   */
  readonly inProcessServers?: Readonly<Record<string, InProcessMcpConnection["connect"]>>;
}

/** The resolved agents and what they share. */
export interface Runtime extends AsyncDisposable {
  readonly namespace: string;
  readonly agents: readonly ResolvedAgent[];
  readonly pool: McpPool;
  /** The agent of that name, or an `agent.not-found` error listing the agents. */
  agent(name: string): ResolvedAgent;
  /** Closes every MCP connection (stdio servers are stopped). */
  close(): Promise<void>;
}

/** The export of an agent's code, imported once (see createRuntime), again after a failure. */
function agentCode(code: AgentCode, root: string): () => Promise<unknown> {
  let loaded: Promise<unknown> | undefined;
  return () => {
    loaded ??= loadAgentCode(code, root);
    // A failed import is tried again by the next run (the file may be fixed in a dev folder).
    loaded.catch(() => {
      loaded = undefined;
    });
    return loaded;
  };
}

function missing(code: string, message: string, details: Record<string, unknown>): FreeholdError {
  return new FreeholdError(code, message, { details });
}

/**
 * @example
 * ```ts
 * const runtime = await createRuntime(config, { resolveSecret: async (ref) => process.env[secretEnvName(ref)] ?? "" });
 * const worker = createRuntimeWorker({ connection, store, agents: runtime.agents });
 * ```
 */
export async function createRuntime(config: RuntimeConfig, options: CreateRuntimeOptions): Promise<Runtime> {
  const { namespace } = config;
  const modelSpecs = new Map(config.models.map((model) => [model.metadata.name, model.spec]));
  const serverNames = new Set(config.mcpServers.map((server) => server.metadata.name));
  const directory: Directory = {
    agents: new Map([
      ...config.peers.map((peer) => [peer.name, { description: peer.description }] as const),
      ...config.agents.map(
        (agent) => [agent.metadata.name, { description: agent.spec.description }] as const,
      ),
    ]),
    humanQueues: new Map(config.humanQueues.map((queue) => [queue.metadata.name, queue.spec])),
  };
  const agentNames = new Set(directory.agents.keys());
  const humanQueues = directory.humanQueues;

  // Check every reference before starting anything.
  for (const agent of config.agents) {
    const name = agent.metadata.name;
    if (!modelSpecs.has(agent.spec.model.ref)) {
      throw missing(
        "agent.model-not-found",
        `agent ${name} uses Model ${agent.spec.model.ref}, which is not defined in namespace ${namespace}; ` +
          `define it or change spec.model.ref (models: ${[...modelSpecs.keys()].join(", ") || "none"})`,
        { agent: name, model: agent.spec.model.ref },
      );
    }
    for (const tool of agent.spec.tools ?? []) {
      if (tool.mcpServer !== undefined && !serverNames.has(tool.mcpServer)) {
        throw missing(
          "agent.mcp-server-not-found",
          `agent ${name} uses MCPServer ${tool.mcpServer}, which is not defined in namespace ${namespace}; ` +
            `define it or remove it from spec.tools (servers: ${[...serverNames].join(", ") || "none"})`,
          { agent: name, mcpServer: tool.mcpServer },
        );
      }
      if (tool.agent !== undefined && !agentNames.has(tool.agent)) {
        throw missing(
          "agent.tool-agent-not-found",
          `agent ${name} calls agent ${tool.agent} as a tool, which is not defined in namespace ${namespace}; ` +
            `define it or remove it from spec.tools (agents: ${[...agentNames].join(", ")})`,
          { agent: name, target: tool.agent },
        );
      }
    }
    for (const handoff of agent.spec.handoffs ?? []) {
      if (handoff.agent !== undefined && !agentNames.has(handoff.agent)) {
        throw missing(
          "agent.handoff-target-not-found",
          `agent ${name} hands off to agent ${handoff.agent}, which is not defined in namespace ${namespace}; ` +
            `define it or remove it from spec.handoffs (agents: ${[...agentNames].join(", ")})`,
          { agent: name, target: handoff.agent },
        );
      }
      if (handoff.humanQueue !== undefined && !humanQueues.has(handoff.humanQueue)) {
        throw missing(
          "agent.human-queue-not-found",
          `agent ${name} hands off to HumanQueue ${handoff.humanQueue}, which is not defined in namespace ${namespace}; ` +
            `define it or remove it from spec.handoffs (human queues: ${[...humanQueues.keys()].join(", ") || "none"})`,
          { agent: name, humanQueue: handoff.humanQueue },
        );
      }
    }
  }
  // Agents used as tools must not ask themselves back: a cycle would nest child runs until a limit.
  const toolAgents = new Map(
    config.agents.map((agent) => [
      agent.metadata.name,
      (agent.spec.tools ?? []).flatMap((tool) => (tool.agent === undefined ? [] : [tool.agent])),
    ]),
  );
  for (const name of toolAgents.keys()) {
    const cycle = agentToolCycle(name, (agent) => toolAgents.get(agent));
    if (cycle !== undefined) {
      throw missing(
        "agent.tool-cycle",
        `agents used as tools form a cycle in namespace ${namespace}: ${cycle.join(" -> ")}; ` +
          `remove one of these agents from the spec.tools of the agent before it`,
        { agent: name, cycle },
      );
    }
  }
  for (const model of config.models) {
    for (const fallback of model.spec.fallbacks ?? []) {
      if (!modelSpecs.has(fallback.ref)) {
        throw missing(
          "model.fallback-not-found",
          `Model ${model.metadata.name} falls back to Model ${fallback.ref}, which is not defined in namespace ${namespace}`,
          { model: model.metadata.name, fallback: fallback.ref },
        );
      }
    }
  }

  const modelOptions = {
    resolveSecret: options.resolveSecret,
    ...(options.modelsDirectory === undefined ? {} : { modelsDirectory: options.modelsDirectory }),
    fetch: options.fetch ?? httpFetch,
  };
  const plainModels = new Map<string, LanguageModel>();
  const plainModel = (name: string): LanguageModel => {
    let model = plainModels.get(name);
    if (model === undefined) {
      const spec = modelSpecs.get(name);
      if (spec === undefined) throw new Error(`unreachable: model ${name} was checked`);
      model = createLanguageModel(spec, modelOptions);
      plainModels.set(name, model);
    }
    return model;
  };
  const modelWithFallbacks = (name: string): LanguageModel => {
    const fallbacks = (modelSpecs.get(name)?.fallbacks ?? []).map((fallback) => plainModel(fallback.ref));
    return fallbacks.length === 0 ? plainModel(name) : withFallbacks(plainModel(name), fallbacks);
  };

  const connections: Record<string, McpConnection> = {};
  for (const server of config.mcpServers) {
    const name = server.metadata.name;
    const inProcess = options.inProcessServers?.[name];
    connections[name] =
      inProcess === undefined
        ? await connectionFromSpec(server.spec, options.resolveSecret)
        : {
            transport: "in-process",
            name,
            connect: inProcess,
            timeoutMs: server.spec.timeoutSeconds * 1000,
          };
  }
  const pool = createMcpPool(connections, { fetch: options.fetch ?? httpFetch, ...options.mcp });

  const agents = config.agents.map((agent): ResolvedAgent => ({
    namespace,
    name: agent.metadata.name,
    spec: agent.spec,
    model: modelWithFallbacks(agent.spec.model.ref),
    specials: specialTools(agent.spec, directory),
    humanQueues,
    ...(agent.spec.code === undefined
      ? {}
      : { code: agentCode(agent.spec.code, options.codeRoot ?? process.cwd()) }),
    broker: createToolBroker(
      pool,
      (agent.spec.tools ?? []).flatMap((tool) =>
        tool.mcpServer === undefined
          ? []
          : [{ server: tool.mcpServer, ...(tool.allow === undefined ? {} : { allow: tool.allow }) }],
      ),
    ),
  }));
  // Agents' code is imported before the worker takes runs (a framework takes a while to import): a
  // failure is the run's to report (agent.code-*), tried again when a run needs the code.
  await Promise.all(
    agents.flatMap((agent) => (agent.code === undefined ? [] : [agent.code().catch(() => undefined)])),
  );
  const close = (): Promise<void> => pool.close();
  return {
    namespace,
    agents,
    pool,
    agent(name) {
      const found = agents.find((agent) => agent.name === name);
      if (found === undefined) {
        throw missing(
          "agent.not-found",
          `agent ${name} is not defined in namespace ${namespace} (agents: ${agents.map((agent) => agent.name).join(", ")})`,
          { namespace, agent: name },
        );
      }
      return found;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
