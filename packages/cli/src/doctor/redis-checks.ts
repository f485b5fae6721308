/**
 * `freehold doctor`'s Redis checks: reachable, its version (BullMQ needs 6.2 or later), whether it
 * keeps runs across a restart (append-only file, or snapshots), and its eviction policy (queues need
 * `noeviction`). For `--dev` without a Redis, that `redis-server` is there to start.
 *
 * @module
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { redactUrls } from "@freehold/api";
import { connectRedis } from "@freehold/handoff";
import { errorMessage, result, type CheckResult } from "./check.ts";

/** `field:value` lines of an INFO section. */
function infoFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0 && !line.startsWith("#")) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

function atLeast(version: string, major: number, minor: number): boolean {
  const [first = 0, second = 0] = version.split(".").map(Number);
  return first > major || (first === major && second >= minor);
}

/**
 * Checks the Redis at `url`.
 *
 * @example
 * ```ts
 * for (const line of await checkRedis("redis://127.0.0.1:6379")) console.log(line.status, line.message);
 * ```
 */
export async function checkRedis(url: string, timeoutMs = 5_000): Promise<CheckResult[]> {
  const where = redactUrls(url);
  const redis = connectRedis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  redis.on("error", () => undefined);
  try {
    try {
      await redis.connect();
      await redis.ping();
    } catch (error) {
      return [
        result(
          "redis",
          "fail",
          `Redis at ${where} is not reachable: ${redactUrls(errorMessage(error))}`,
          "start Redis (or `freehold dev`), or pass the right --redis-url / FREEHOLD_REDIS_URL",
        ),
      ];
    }
    const server = infoFields(await redis.info("server"));
    const persistence = infoFields(await redis.info("persistence"));
    const memory = infoFields(await redis.info("memory"));
    const version = server.get("redis_version") ?? "unknown";
    const checks: CheckResult[] = [
      atLeast(version, 6, 2)
        ? result("redis", "ok", `Redis ${version} at ${where}`)
        : result(
            "redis",
            "fail",
            `Redis ${version} at ${where} is too old: the run queues need 6.2 or later`,
            "upgrade Redis to 6.2 or later (7 is tested)",
          ),
    ];
    const save = await redis
      .config("GET", "save")
      .then((reply) => reply[1] ?? "")
      .catch(() => undefined);
    if (persistence.get("aof_enabled") === "1") {
      checks.push(result("redis persistence", "ok", "append-only file on: runs survive a restart"));
    } else if (save !== undefined && save.trim() !== "") {
      checks.push(
        result(
          "redis persistence",
          "warn",
          `snapshots only (save ${save}): runs since the last snapshot are lost if Redis restarts`,
          "set `appendonly yes` (the chart's Redis does)",
        ),
      );
    } else {
      checks.push(
        result(
          "redis persistence",
          "warn",
          save === undefined
            ? "append-only file off, and CONFIG is not allowed to say whether snapshots are on"
            : "no persistence: every run is lost if Redis restarts",
          "set `appendonly yes` (the chart's Redis does)",
        ),
      );
    }
    const policy = memory.get("maxmemory_policy") ?? "unknown";
    checks.push(
      policy === "noeviction"
        ? result("redis eviction", "ok", "maxmemory-policy noeviction")
        : result(
            "redis eviction",
            "warn",
            `maxmemory-policy ${policy}: Redis may evict queue and run keys when full`,
            "set `maxmemory-policy noeviction`",
          ),
    );
    return checks;
  } finally {
    redis.disconnect();
  }
}

/** For `--dev` without `--redis-url`: the `redis-server` that `freehold dev` starts. */
export async function checkRedisServerBinary(): Promise<CheckResult> {
  try {
    const { stdout } = await promisify(execFile)("redis-server", ["--version"], { timeout: 5_000 });
    const version = /v=(\S+)/.exec(stdout)?.[1] ?? "unknown version";
    return result("redis", "ok", `redis-server ${version} on PATH (freehold dev starts its own)`);
  } catch (error) {
    return result(
      "redis",
      "fail",
      `redis-server, which freehold dev starts, cannot be run: ${errorMessage(error)}`,
      "install redis-server (scripts/setup.sh does), or pass --redis-url",
    );
  }
}
