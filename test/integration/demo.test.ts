/**
 * The demo, end to end with the real small model: `freehold run --dev examples/quickstart` runs
 * Gemma 3 270M in-process on CPU, against the published filesystem MCP server over stdio. It asserts
 * that the loop ran and that the tool was called and answered; never the model's wording.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { RunEvent } from "@freehold/api";
import { demoRun } from "freehold";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");

describe("the quickstart demo", () => {
  it(
    "answers with the local model after calling the filesystem server's tool",
    { timeout: 240_000 },
    async () => {
      const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>(
        (resolve) => {
          execFile(
            process.execPath,
            [
              join(root, "packages", "cli", "src", "bin.ts"),
              "run",
              "--dev",
              "examples/quickstart",
              "--json",
              demoRun.agent,
              demoRun.input,
            ],
            { cwd: root, timeout: 230_000 },
            (error, out, err) => {
              resolve({
                code: error === null ? 0 : typeof error.code === "number" ? error.code : 1,
                stdout: out,
                stderr: err,
              });
            },
          );
        },
      );
      expect(stderr).not.toContain("model.local-missing");
      const events = stdout
        .trim()
        .split("\n")
        .map((line) => RunEvent.parse(JSON.parse(line)));
      const models = events.filter((event) => event.type === "model-call-end");
      expect(models.length).toBeGreaterThanOrEqual(2);
      expect(models.every((event) => event.usage.outputTokens > 0)).toBe(true);
      const toolEnds = events.filter((event) => event.type === "tool-call-end");
      expect(toolEnds.some((event) => event.name === "read_text_file" && !event.isError)).toBe(true);
      expect(events.at(-1)).toMatchObject({ type: "run-end", status: "completed" });
      expect(code).toBe(0);
    },
  );
});
