/**
 * Lint: type-aware, zero warnings (CI runs `eslint . --max-warnings 0`). Formatting is prettier's job.
 */
import js from "@eslint/js";
import { defineConfig } from "eslint/config";
import prettier from "eslint-config-prettier";
import tseslint from "typescript-eslint";

export default defineConfig(
  {
    ignores: ["**/node_modules/", "**/dist/", "packages/cli/bundle/", ".toolchain/", "test/cluster/**/*.go"],
  },
  js.configs.recommended,
  tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // What a worker loads: an ES module import of node:http reads all its exports, and three of them
    // (WebSocket, CloseEvent, MessageEvent) load undici, Node's fetch, about 3 MiB of an idle worker.
    files: ["packages/{api,cli,handoff,mcp,models,runtime}/src/**/*.ts"],
    ignores: ["**/*.test.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          paths: ["node:http", "http"].map((name) => ({
            name,
            allowTypeImports: true,
            message: 'Use process.getBuiltinModule("node:http"): importing it as a module loads undici.',
          })),
        },
      ],
    },
  },
  prettier,
);
