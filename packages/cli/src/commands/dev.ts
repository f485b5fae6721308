/**
 * `freehold dev <folder | entry.ts>`: runs a folder's agents (or those an entry module defines with
 * `@freehold/sdk`) without Kubernetes until stopped, writes the local
 * credentials of the gateway (a token file and a policy that makes you admin of the folder's
 * namespaces, mode 0600), and prints how to start the gateway and runs (the Redis URL without its
 * password).
 *
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { redactUrls } from "@freehold/api";
import { devAuthFiles, writeDevAuth } from "../dev/dev-auth.ts";
import { startDevEnvironment } from "../dev/dev-environment.ts";
import type { Output } from "../output.ts";

export interface DevOptions {
  readonly directory: string;
  readonly redisUrl?: string;
  readonly dataDirectory?: string;
  readonly cwd: string;
  readonly environment: Readonly<Record<string, string | undefined>>;
  readonly modelsDirectory?: string;
}

/** Starts the environment, waits for `stopped`, then stops it gracefully. */
export async function devCommand(options: DevOptions, output: Output, stopped: Promise<void>): Promise<void> {
  const environment = await startDevEnvironment({
    directory: options.directory,
    cwd: options.cwd,
    environment: options.environment,
    log: (line) => {
      output.stderr(`${line}\n`);
    },
    ...(options.redisUrl === undefined ? {} : { redisUrl: options.redisUrl }),
    ...(options.dataDirectory === undefined ? {} : { dataDirectory: options.dataDirectory }),
    ...(options.modelsDirectory === undefined ? {} : { modelsDirectory: options.modelsDirectory }),
  });
  const agents = environment.runtimes.flatMap((runtime) => runtime.agents);
  // The agent to try first: one no other agent hands to or calls (the front door), else the first.
  const reached = new Set(
    agents.flatMap((agent) => [
      ...(agent.spec.handoffs ?? []).flatMap((handoff) =>
        handoff.agent === undefined ? [] : [handoff.agent],
      ),
      ...(agent.spec.tools ?? []).flatMap((tool) =>
        "agent" in tool && typeof tool.agent === "string" ? [tool.agent] : [],
      ),
    ]),
  );
  const first = agents.find((agent) => !reached.has(agent.name)) ?? agents[0];
  const auth = writeDevAuth(
    devAuthFiles(
      options.environment,
      options.dataDirectory === undefined ? undefined : join(options.dataDirectory, "auth"),
    ),
    options.environment.USER ?? userInfo().username,
    [...new Set(agents.map((agent) => agent.namespace))],
  );
  // The gateway reads manifests: an entry module's are written beside the dev tokens.
  let manifests = options.directory;
  if (environment.manifests !== undefined) {
    manifests = join(auth.directory, "manifests");
    mkdirSync(manifests, { recursive: true });
    writeFileSync(join(manifests, "resources.yaml"), environment.manifests);
  }
  // The Redis URL is printed without its password: put yours back in when you copy the line.
  const redisUrl = redactUrls(environment.redisUrl);
  output.stdout(
    `ready. In another terminal:\n` +
      `  export FREEHOLD_REDIS_URL=${redisUrl} FREEHOLD_TOKEN=${auth.token}\n` +
      (redisUrl === environment.redisUrl
        ? ""
        : `    (the Redis URL's credentials are hidden as ***: put your own in)\n`) +
      `  freehold gateway --token-file ${auth.tokenFile} --policy-file ${auth.policyFile} --manifests ${manifests}\n` +
      `    (you are ${auth.user}, admin of ${[...new Set(agents.map((agent) => agent.namespace))].join(", ")}; add people to the token file and the policy)\n` +
      `  then open the console, signed in: http://127.0.0.1:8080/#token=${auth.token}\n` +
      `  freehold run ${first?.name ?? "<agent>"}${first?.namespace === "default" ? "" : ` -n ${first?.namespace ?? ""}`} "your question"\n` +
      `Ctrl-C stops (runs in progress go back on their queue).\n`,
  );
  await stopped;
  output.stderr("stopping\n");
  await environment.close();
}
