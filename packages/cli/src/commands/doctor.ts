/**
 * `freehold doctor`: checks what Freehold needs and says what to fix. Against a cluster: Redis
 * (`--redis-url`), the kube-apiserver, the CRDs installed and current, each Model's endpoint and
 * each MCPServer's tools. With `--dev <folder>`: the folder's manifests, Models and MCPServers
 * instead, and the Redis `freehold dev` would use. Each check prints ok / warn / fail; the exit code
 * is 1 when one fails.
 *
 * @module
 */
import { environmentSecrets, stdioEnvironment } from "../dev/dev-environment.ts";
import { loadResources } from "../dev/load-folder.ts";
import type { Output } from "../output.ts";
import { colourStyle, plainStyle } from "../render-events.ts";
import { errorMessage, result, type CheckResult } from "../doctor/check.ts";
import { checkCluster, type ClusterOptions } from "../doctor/cluster-checks.ts";
import { checkMcpServer } from "../doctor/mcp-check.ts";
import { checkModel } from "../doctor/model-check.ts";
import { checkRedis, checkRedisServerBinary } from "../doctor/redis-checks.ts";

export interface DoctorOptions extends ClusterOptions {
  readonly redisUrl?: string;
  readonly namespace?: string;
  /** Check this folder's resources instead of a cluster's. */
  readonly dev?: string;
  readonly json: boolean;
  readonly cwd: string;
  readonly environment: Readonly<Record<string, string | undefined>>;
}

interface Probe {
  run(): Promise<CheckResult>;
}

/** Runs every check; resolves to the results, in order. */
export async function doctorChecks(options: DoctorOptions): Promise<CheckResult[]> {
  const checks: CheckResult[] = [];
  const probes: Probe[] = [];
  if (options.dev !== undefined) {
    if (options.redisUrl === undefined) checks.push(await checkRedisServerBinary());
    else checks.push(...(await checkRedis(options.redisUrl)));
    const resolveSecret = environmentSecrets(options.environment);
    try {
      const resources = loadResources(options.dev, options.cwd);
      checks.push(result("manifests", "ok", `${resources.length} resources in ${options.dev}`));
      for (const resource of resources) {
        const name = `${resource.metadata.namespace ?? "default"}/${resource.metadata.name}`;
        if (resource.kind === "Model") {
          probes.push({ run: () => checkModel(name, resource.spec, resolveSecret) });
        } else if (resource.kind === "MCPServer") {
          const baseEnvironment = stdioEnvironment({ ...options, directory: options.dev });
          probes.push({ run: () => checkMcpServer(name, resource.spec, resolveSecret, { baseEnvironment }) });
        }
      }
    } catch (error) {
      checks.push(
        result(
          "manifests",
          "fail",
          errorMessage(error),
          "fix the manifest (freehold validate names the field)",
        ),
      );
    }
  } else {
    checks.push(
      ...(options.redisUrl === undefined
        ? [
            result(
              "redis",
              "warn",
              "not checked: no Redis given",
              "pass --redis-url or set FREEHOLD_REDIS_URL (the cluster's Redis, e.g. through kubectl port-forward)",
            ),
          ]
        : await checkRedis(options.redisUrl)),
    );
    const cluster = await checkCluster(options, options.namespace);
    checks.push(...cluster.checks);
    const found = cluster.resources;
    for (const model of found?.models ?? []) {
      const resolveSecret = found?.resolveSecret(model.namespace);
      if (resolveSecret === undefined) continue;
      probes.push({ run: () => checkModel(`${model.namespace}/${model.name}`, model.spec, resolveSecret) });
    }
    for (const server of found?.mcpServers ?? []) {
      const resolveSecret = found?.resolveSecret(server.namespace);
      if (resolveSecret === undefined) continue;
      const statusUrl = server.statusUrl === undefined ? {} : { statusUrl: server.statusUrl };
      probes.push({
        run: () =>
          checkMcpServer(`${server.namespace}/${server.name}`, server.spec, resolveSecret, statusUrl),
      });
    }
  }
  // Endpoints are probed a few at a time: each is bounded by its own timeout.
  const concurrency = 4;
  const results: CheckResult[] = new Array<CheckResult>(probes.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, probes.length) }, async () => {
      while (next < probes.length) {
        const index = next;
        next += 1;
        results[index] = await (probes[index] as Probe).run();
      }
    }),
  );
  return [...checks, ...results];
}

/**
 * Prints the checks (or, with `--json`, `{ok, checks}`); resolves to whether none failed.
 *
 * @example
 * ```ts
 * const healthy = await doctorCommand({ dev: "examples/quickstart", json: false, cwd, environment: process.env }, processOutput());
 * ```
 */
export async function doctorCommand(options: DoctorOptions, output: Output): Promise<boolean> {
  const checks = await doctorChecks(options);
  const ok = checks.every((check) => check.status !== "fail");
  if (options.json) {
    output.stdout(`${JSON.stringify({ ok, checks }, null, 2)}\n`);
    return ok;
  }
  const style = output.interactive ? colourStyle : plainStyle;
  const mark = { ok: style.green("ok  "), warn: style.bold("warn"), fail: style.red("fail") };
  for (const check of checks) {
    output.stdout(`${mark[check.status]} ${check.check}: ${check.message}\n`);
    if (check.fix !== undefined) output.stdout(`     ${style.dim(`fix: ${check.fix}`)}\n`);
  }
  const count = (status: CheckResult["status"]): number =>
    checks.filter((check) => check.status === status).length;
  output.stdout(`\n${count("ok")} ok, ${count("warn")} warn, ${count("fail")} fail\n`);
  return ok;
}
