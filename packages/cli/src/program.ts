/**
 * The `freehold` command line: one commander program whose commands call small functions, each
 * writing to an {@link Output}.
 *
 * @module
 */
import type { Command } from "commander";
import { Option } from "commander";
import { join } from "node:path";
import { registerApprovalCommands } from "./commands/approvals.ts";
import { registerGatewayCommand } from "./commands/gateway.ts";
import { registerInboxCommands } from "./commands/inbox.ts";
import { registerRunsCommand } from "./commands/runs.ts";
import { port, positiveInteger, rootCommand, type ProgramContext } from "./program-base.ts";
import { registerWorkerCommand } from "./worker-program.ts";

export type { ProgramContext } from "./program-base.ts";

// Each command's module is imported when the command runs: a worker never loads the gateway, the
// dev environment or the local-model runtime, and starts (and idles) smaller for it.

/** The folder of the demo's manifests. */
export const demoDirectory = join(import.meta.dirname, "..", "..", "..", "examples", "quickstart");

/** The demo's agent and question. */
export const demoRun = {
  agent: "assistant",
  input: "Who leads the platform team at ACME, and what do they own?",
};

/**
 * Builds the program. `bin.ts` runs it with the process's arguments; tests run it with their own.
 *
 * @example
 * ```ts
 * await createProgram({ output: processOutput(), cwd: process.cwd() }).parseAsync(["crds"], { from: "user" });
 * ```
 */
export function createProgram(context: ProgramContext): Command {
  const { output } = context;
  const program = rootCommand(output);

  program
    .command("crds")
    .description("print the CustomResourceDefinitions (pipe to `kubectl apply --server-side -f -`)")
    .option("-k, --kind <kind>", "only this kind: Agent, Model, MCPServer, HumanQueue or Tenant")
    .addOption(new Option("-o, --output <format>", "output format").choices(["yaml", "json"]).default("yaml"))
    .action(async (options: { kind?: string; output: "yaml" | "json" }) => {
      const { crdsCommand } = await import("./commands/crds.ts");
      crdsCommand(options, output);
    });

  program
    .command("validate")
    .description("check manifests against Freehold's schemas and rules, without a cluster")
    .argument("<paths...>", "manifest files or folders of .yaml files")
    .action(async (paths: string[]) => {
      const { validateCommand } = await import("./commands/validate.ts");
      const { resources, failures } = validateCommand(paths, output, context.cwd);
      output.stderr(`${resources.length} resources valid, ${failures} files with errors\n`);
      if (failures > 0) process.exitCode = 1;
    });

  program
    .command("build")
    .description(
      "write the manifests of the definitions a TypeScript entry module exports (@freehold/sdk), as YAML",
    )
    .argument("<entry>", "the module, e.g. src/agents.ts")
    .option("-o, --output <file>", "write the YAML to this file instead of standard output")
    .option(
      "--tool-image <image>",
      "write tool servers (defineToolServer) as MCPServers the operator runs from this image (built FROM the runtime image, the project in --tool-workdir)",
    )
    .option("--tool-workdir <dir>", "the project's folder in --tool-image", "/app")
    .action(async (entry: string, options: { output?: string; toolImage?: string; toolWorkdir: string }) => {
      const { buildCommand } = await import("./commands/build.ts");
      await buildCommand(
        {
          entry,
          cwd: context.cwd,
          ...(options.output === undefined ? {} : { outputFile: options.output }),
          ...(options.toolImage === undefined
            ? {}
            : { toolImage: { image: options.toolImage, workingDir: options.toolWorkdir } }),
        },
        output,
      );
    });

  program
    .command("run")
    .description("start a run and stream its events until it ends")
    .argument("<agent>", "the agent's name")
    .argument("<input>", "what to ask")
    .option("-n, --namespace <namespace>", "the agent's namespace")
    .option(
      "--dev <folder>",
      "run this folder's agents (or an entry module's definitions) in this process for the run (own Redis, no cluster)",
    )
    .option(
      "--redis-url <url>",
      "the Redis of a running `freehold dev` or cluster",
      context.environment.FREEHOLD_REDIS_URL,
    )
    .option("--json", "print events as JSON lines", false)
    .action(
      async (
        agent: string,
        input: string,
        options: { namespace?: string; dev?: string; redisUrl?: string; json: boolean },
      ) => {
        const { runCommand } = await import("./commands/run.ts");
        const end = await runCommand(
          {
            agent,
            input,
            json: options.json,
            cwd: context.cwd,
            environment: context.environment,
            ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
            ...(options.dev === undefined ? {} : { dev: options.dev }),
            ...(options.redisUrl === undefined ? {} : { redisUrl: options.redisUrl }),
            ...(context.modelsDirectory === undefined ? {} : { modelsDirectory: context.modelsDirectory }),
            stopped: context.stopped,
          },
          output,
        );
        if (end.status !== "completed") process.exitCode = 1;
      },
    );

  program
    .command("chat")
    .description("talk with an agent at the terminal: each line a run that continues the conversation")
    .argument("<agent>", "the agent's name")
    .option("-n, --namespace <namespace>", "the agent's namespace")
    .option("--dev <folder>", "run this folder's agents in this process for the chat (own Redis, no cluster)")
    .option(
      "--redis-url <url>",
      "the Redis of a running `freehold dev` or cluster",
      context.environment.FREEHOLD_REDIS_URL,
    )
    .action(async (agent: string, options: { namespace?: string; dev?: string; redisUrl?: string }) => {
      const { chatCommand } = await import("./commands/chat.ts");
      const summary = await chatCommand(
        {
          agent,
          input: process.stdin,
          terminal: process.stdout,
          cwd: context.cwd,
          environment: context.environment,
          ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
          ...(options.dev === undefined ? {} : { dev: options.dev }),
          ...(options.redisUrl === undefined ? {} : { redisUrl: options.redisUrl }),
          ...(context.modelsDirectory === undefined ? {} : { modelsDirectory: context.modelsDirectory }),
        },
        output,
      );
      if (summary.failed > 0 && !process.stdin.isTTY) process.exitCode = 1;
    });

  program
    .command("doctor")
    .description("check Redis, cluster access, CRDs, models and MCP servers, and say what to fix")
    .option(
      "--redis-url <url>",
      "the Redis of the cluster or a running `freehold dev`",
      context.environment.FREEHOLD_REDIS_URL,
    )
    .option("--kubeconfig <file>", "the kubeconfig (default: KUBECONFIG, else ~/.kube/config)")
    .option("--in-cluster", "use the Pod's service account instead of a kubeconfig", false)
    .option("-n, --namespace <namespace>", "check the Models and MCPServers of this namespace (default: all)")
    .option(
      "--dev <folder>",
      "check this folder's resources (as freehold dev runs them) instead of a cluster",
    )
    .option("--json", "print the checks as JSON", false)
    .action(
      async (options: {
        redisUrl?: string;
        kubeconfig?: string;
        inCluster: boolean;
        namespace?: string;
        dev?: string;
        json: boolean;
      }) => {
        const { doctorCommand } = await import("./commands/doctor.ts");
        const ok = await doctorCommand(
          {
            json: options.json,
            inCluster: options.inCluster,
            cwd: context.cwd,
            environment: context.environment,
            ...(options.redisUrl === undefined ? {} : { redisUrl: options.redisUrl }),
            ...(options.kubeconfig === undefined ? {} : { kubeconfig: options.kubeconfig }),
            ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
            ...(options.dev === undefined ? {} : { dev: options.dev }),
          },
          output,
        );
        if (!ok) process.exitCode = 1;
      },
    );

  program
    .command("dev")
    .description("run a folder's agents without Kubernetes, until Ctrl-C")
    .argument(
      "<folder>",
      "a folder of Agent, Model and MCPServer manifests, or a TypeScript entry module exporting @freehold/sdk definitions",
    )
    .option("--redis-url <url>", "use this Redis instead of starting one")
    .option(
      "--data-dir <folder>",
      "keep the started Redis's data here (append-only) instead of a temporary folder",
    )
    .action(async (directory: string, options: { redisUrl?: string; dataDir?: string }) => {
      const { devCommand } = await import("./commands/dev.ts");
      await devCommand(
        {
          directory,
          cwd: context.cwd,
          environment: context.environment,
          ...(options.redisUrl === undefined ? {} : { redisUrl: options.redisUrl }),
          ...(options.dataDir === undefined ? {} : { dataDirectory: options.dataDir }),
          ...(context.modelsDirectory === undefined ? {} : { modelsDirectory: context.modelsDirectory }),
        },
        output,
        context.stopped(),
      );
    });

  registerWorkerCommand(program, context, () => import("./commands/worker.ts"));

  program
    .command("model")
    .description("model tools")
    .command("serve")
    .description("serve a scripted OpenAI-compatible model from a YAML or JSON script, until Ctrl-C")
    .requiredOption("-s, --script <file>", "the script: turns of text, tool calls, errors and delays")
    .option("--host <host>", "the address to listen on", "127.0.0.1")
    .option("-p, --port <port>", "the port (0: a free one)", "0")
    .action(async (options: { script: string; host: string; port: string }) => {
      const { modelServeCommand } = await import("./commands/serve.ts");
      await modelServeCommand(
        { script: options.script, host: options.host, port: port(options.port) },
        output,
        context.stopped(),
      );
    });

  program
    .command("mcp")
    .description("MCP tools")
    .command("bridge")
    .description("serve a stdio MCP server over streamable HTTP, until Ctrl-C")
    .argument("<command...>", "the stdio server's command and arguments, after --")
    .option("--host <host>", "the address to listen on (0.0.0.0 in a container)", "127.0.0.1")
    .option("-p, --port <port>", "the port (0: a free one)", "0")
    .option(
      "--token-file <file>",
      "a file holding the token clients must send (Authorization: Bearer); default: $FREEHOLD_MCP_BRIDGE_TOKEN",
    )
    .option("--max-sessions <n>", "sessions (stdio children) at once; past it a new one gets 503", "32")
    .action(
      async (
        command: string[],
        options: { host: string; port: string; tokenFile?: string; maxSessions: string },
      ) => {
        const { bridgeCommand } = await import("./commands/serve.ts");
        await bridgeCommand(
          {
            command,
            host: options.host,
            port: port(options.port),
            ...(options.tokenFile === undefined ? {} : { tokenFile: options.tokenFile }),
            maxSessions: positiveInteger(options.maxSessions, "--max-sessions"),
            environment: context.environment,
          },
          output,
          context.stopped(),
        );
      },
    );

  program
    .command("tools")
    .description("tool servers written with @freehold/sdk")
    .command("serve")
    .description(
      "serve the tools of a tool server an entry module defines (defineToolServer) over stdin and stdout, as a stdio MCP server",
    )
    .argument("<entry>", "the module that exports it, e.g. src/resources.ts")
    .option(
      "--server <name>",
      "the tool server, as name or namespace/name; needed when the entry defines several",
    )
    .action(async (entry: string, options: { server?: string }) => {
      const { toolsServeCommand } = await import("./commands/tools.ts");
      await toolsServeCommand({
        entry,
        cwd: context.cwd,
        ...(options.server === undefined ? {} : { server: options.server }),
      });
    });

  registerGatewayCommand(program, context);
  registerInboxCommands(program, context);
  registerApprovalCommands(program, context);
  registerRunsCommand(program, context);

  program
    .command("demo")
    .description(
      "run the demo: an agent answers with a published MCP server and a small local model, offline",
    )
    .action(async () => {
      output.stderr(`freehold demo: examples/quickstart, agent ${demoRun.agent}\n`);
      const { runCommand } = await import("./commands/run.ts");
      const end = await runCommand(
        {
          ...demoRun,
          dev: demoDirectory,
          json: false,
          cwd: context.cwd,
          environment: context.environment,
          ...(context.modelsDirectory === undefined ? {} : { modelsDirectory: context.modelsDirectory }),
          stopped: context.stopped,
        },
        output,
      );
      if (end.status !== "completed") process.exitCode = 1;
    });

  return program;
}
