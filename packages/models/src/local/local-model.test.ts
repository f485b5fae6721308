import { describe, expect, it } from "vitest";
import { isFreeholdError, ModelSpec } from "@freehold/api";
import { createLocalModel } from "./local-model.ts";

describe("createLocalModel", () => {
  it("names the model and its provider without loading anything", () => {
    const model = createLocalModel(ModelSpec.parse({ provider: "local", model: "gemma3-270m" }), {});
    expect(model.provider).toBe("local");
    expect(model.modelId).toBe("gemma3-270m");
  });

  it("fails with model.local-missing, saying how to fetch the default model", async () => {
    const spec = ModelSpec.parse({ provider: "local", model: "gemma3-270m" });
    const model = createLocalModel(spec, { modelsDirectory: "/nonexistent/freehold/models" });
    const error: unknown = await model
      .generate({ messages: [{ role: "user", content: "Hi" }] })
      .catch((e: unknown) => e);
    expect(isFreeholdError(error, "model.local-missing")).toBe(true);
    expect((error as Error).message).toContain("scripts/fetch-model.sh");
    expect((error as Error).message).toContain("/nonexistent/freehold/models/gemma3-270m-q4_k_m.gguf");
  });

  it("fails a stream the same way, and names spec.path for another model", async () => {
    const spec = ModelSpec.parse({ provider: "local", model: "mine", path: "/nonexistent/mine.gguf" });
    const parts = createLocalModel(spec, {}).stream({ messages: [{ role: "user", content: "Hi" }] });
    const error = await (async (): Promise<unknown> => {
      try {
        for await (const part of parts) expect(part).toBeUndefined();
        return undefined;
      } catch (caught) {
        return caught;
      }
    })();
    expect(isFreeholdError(error, "model.local-missing")).toBe(true);
    expect((error as Error).message).toContain("spec.path");
  });

  it("fails with model.aborted when the call is cancelled before it starts", async () => {
    const model = createLocalModel(ModelSpec.parse({ provider: "local", model: "gemma3-270m" }), {});
    const error: unknown = await model
      .generate({ messages: [{ role: "user", content: "Hi" }], signal: AbortSignal.abort() })
      .catch((e: unknown) => e);
    expect(isFreeholdError(error, "model.aborted")).toBe(true);
  });
});
