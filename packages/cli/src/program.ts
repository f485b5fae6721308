/**
 * The `freehold` command line: one commander program whose commands call small functions, each
 * writing to an {@link Output}.
 *
 * @module
 */
import { Command, Option } from "commander";
import { crdsCommand } from "./commands/crds.ts";
import { validateCommand } from "./commands/validate.ts";
import type { Output } from "./output.ts";

/** What the program needs from its environment. */
export interface ProgramContext {
  readonly output: Output;
  /** The folder relative paths are resolved from. */
  readonly cwd: string;
}

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
  const program = new Command("freehold")
    .description("Run agents on infrastructure you own.")
    .configureOutput({
      writeOut: (text) => {
        output.stdout(text);
      },
      writeErr: (text) => {
        output.stderr(text);
      },
    })
    .exitOverride()
    .showHelpAfterError();

  program
    .command("crds")
    .description("print the CustomResourceDefinitions (pipe to `kubectl apply --server-side -f -`)")
    .option("-k, --kind <kind>", "only this kind: Agent, Model, MCPServer, HumanQueue or Tenant")
    .addOption(new Option("-o, --output <format>", "output format").choices(["yaml", "json"]).default("yaml"))
    .action((options: { kind?: string; output: "yaml" | "json" }) => {
      crdsCommand(options, output);
    });

  program
    .command("validate")
    .description("check manifests against Freehold's schemas and rules, without a cluster")
    .argument("<paths...>", "manifest files or folders of .yaml files")
    .action((paths: string[]) => {
      const { resources, failures } = validateCommand(paths, output, context.cwd);
      output.stderr(`${resources.length} resources valid, ${failures} files with errors\n`);
      if (failures > 0) process.exitCode = 1;
    });

  return program;
}
