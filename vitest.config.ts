/**
 * Test projects:
 * - `unit`: tests beside the code (`src/**\/*.test.ts`), no services.
 * - `integration`: suites under `test/`, `packages/*\/test/` and `examples/*\/test/` that start real
 *   services themselves (Redis, MCP servers, model servers) on free loopback ports. An example's
 *   tests also run on their own from its folder (`pnpm test` there, with its vitest.config.ts).
 * Both service projects first build the bundled `freehold` when its sources changed
 * (test/build-setup.ts): worker processes start from it, as in the images.
 * - `cluster`: suites that need the real kube-apiserver; one is started for the whole project.
 */
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["@freehold/source"] },
  test: {
    testTimeout: 30_000,
    hookTimeout: 120_000,
    projects: [
      {
        test: {
          name: "unit",
          include: [
            "packages/**/src/**/*.test.ts",
            "operators/**/src/**/*.test.ts",
            "scripts/**/*.test.ts",
            "test/fixtures/**/*.test.ts",
          ],
        },
      },
      {
        test: {
          name: "integration",
          include: [
            "packages/**/test/**/*.test.ts",
            "test/integration/**/*.test.ts",
            "test/conformance/**/*.test.ts",
            "examples/*/test/**/*.test.ts",
          ],
          globalSetup: ["test/build-setup.ts"],
        },
      },
      {
        test: {
          name: "cluster",
          include: ["test/cluster/**/*.test.ts", "operators/**/test/**/*.test.ts"],
          globalSetup: ["test/build-setup.ts", "test/cluster/global-setup.ts"],
          testTimeout: 60_000,
        },
      },
    ],
  },
});
