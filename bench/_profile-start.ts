import { spawn } from "node:child_process";
import { createAgentQueues, createRunStore, startRedisServer, startRun } from "@freehold/handoff";
import { startScriptedModelServer } from "@freehold/models";
import { Redis } from "ioredis";
import { startCounterServer } from "../test/fixtures/mcp/counter-server.ts";
import { compileCacheDirectory, ensureBundle, writeConfig } from "./worker-process.ts";
import { imageEnvironment } from "../test/fixtures/image-environment.ts";
import { cliBundle } from "../packages/cli/scripts/build.ts";

const model = await startScriptedModelServer({ script: { turns: [{ text: "hello" }], loop: true } });
const counter = await startCounterServer({ transport: "http" });
const redis = await startRedisServer();
const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
const store = createRunStore(connection);
const queues = createAgentQueues(connection);
await ensureBundle();
const config = writeConfig(model.baseUrl, counter.url);
const cache = compileCacheDirectory();
const extra = (process.env.EXTRA ?? "").split(" ").filter(Boolean);
for (let i = 0; i < Number(process.env.N ?? 3); i++) {
  await startRun({ redis: connection, store, queues }, { namespace: "bench", agent: "adder", input: "hi" });
  const before = model.requests.length;
  const started = performance.now();
  const { NODE_OPTIONS: _o, ...inh } = process.env;
  const child = spawn(
    process.env.SNAP ? "/work/main/packages/cli/bundle/freehold" : process.execPath,
    [
      ...(process.env.SNAP ? [] : [cliBundle]),
      "worker",
      "--config",
      config,
      "--redis-url",
      redis.url,
      "--concurrency",
      "1",
    ],
    {
      stdio: ["ignore", "inherit", "inherit"],
      env: {
        ...inh,
        ...imageEnvironment(),
        NODE_COMPILE_CACHE: cache,
        ...(i > 0 && extra.length > 0
          ? { NODE_OPTIONS: [imageEnvironment().NODE_OPTIONS, ...extra].join(" ") }
          : {}),
      },
    },
  );
  while (model.requests.length <= before) await new Promise((r) => setTimeout(r, 1));
  console.error(`start ${i}: ${(performance.now() - started).toFixed(1)} ms`);
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}
await queues.close();
connection.disconnect();
await redis.stop();
await counter.close();
await model.close();
