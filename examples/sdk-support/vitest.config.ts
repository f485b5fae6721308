/**
 * The project's tests (`pnpm test`): the tools over MCP, the committed manifests, and the support desk
 * end to end under `freehold dev` (a Redis of its own, the scripted model, the gateway).
 */
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
