import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultLocalModelFile, defaultModelsDirectory, resolveLocalModelPath } from "./local-model-path.ts";

describe("resolveLocalModelPath", () => {
  it("finds the default model under its names in the models directory", () => {
    for (const modelName of ["gemma3-270m", "gemma3-270m-q4_k_m", defaultLocalModelFile]) {
      expect(resolveLocalModelPath({ modelName, modelsDirectory: "/cache/models" })).toEqual({
        path: "/cache/models/gemma3-270m-q4_k_m.gguf",
        isDefaultModel: true,
      });
    }
  });

  it("names other files after the model, and lets spec.path win over modelPath", () => {
    expect(resolveLocalModelPath({ modelName: "qwen", modelsDirectory: "/m" }).path).toBe("/m/qwen.gguf");
    expect(resolveLocalModelPath({ modelName: "qwen.gguf", modelsDirectory: "/m" }).path).toBe(
      "/m/qwen.gguf",
    );
    expect(
      resolveLocalModelPath({ modelName: "gemma3-270m", specPath: "/a.gguf", modelPath: "/b.gguf" }),
    ).toEqual({ path: "/a.gguf", isDefaultModel: false });
    expect(resolveLocalModelPath({ modelName: "x", modelPath: "b.gguf" }).path).toBe(resolve("b.gguf"));
  });

  it("defaults to the cache that scripts/fetch-model.sh fills", () => {
    expect(defaultModelsDirectory()).toBe(join(homedir(), ".cache", "freehold", "models"));
    expect(defaultModelsDirectory("/data")).toBe("/data/models");
  });
});
