/**
 * The local provider running the real default model (Gemma 3 270M, Q4_K_M) in-process on CPU. The
 * model comes from scripts/fetch-model.sh (run by scripts/setup.sh); without it every test here fails
 * with the error that says to run that script. Wording is never asserted: only shapes.
 */
import { afterAll, describe, expect, it } from "vitest";
import { isFreeholdError, ModelSpec, type ChatMessage } from "@freehold/api";
import { createLanguageModel, type LanguageModel, type StreamPart } from "../src/index.ts";
import { disposeLocalModels } from "../src/local/loaded-model.ts";
import { defaultModelsDirectory } from "../src/local/local-model-path.ts";

// A test is an entry point: it may read the environment, as scripts/fetch-model.sh does.
const modelsDirectory = defaultModelsDirectory(process.env.FREEHOLD_CACHE_DIR);

const weatherTool = {
  name: "get_weather",
  description: "Get the current weather for a city.",
  inputSchema: {
    type: "object",
    properties: { city: { type: "string", description: "The city, e.g. Paris" } },
    required: ["city"],
  },
};

function localModel(parameters: Record<string, unknown> = {}): LanguageModel {
  const spec = ModelSpec.parse({ provider: "local", model: "gemma3-270m", maxRetries: 0, parameters });
  return createLanguageModel(spec, { modelsDirectory });
}

async function collect(stream: AsyncIterable<StreamPart>): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

afterAll(() => disposeLocalModels());

describe("local model (gemma3-270m)", { timeout: 180_000 }, () => {
  it("answers a plain question with text and real token counts", async () => {
    const result = await localModel().generate({
      messages: [{ role: "user", content: "What is the capital of France?" }],
    });
    expect(result.message.content.trim()).not.toBe("");
    expect(result.message.toolCalls).toBeUndefined();
    expect(result.finishReason).toMatch(/^(stop|length)$/);
    expect(result.model).toBe("gemma3-270m");
    expect(result.usage.inputTokens).toBeGreaterThan(5);
    expect(result.usage.outputTokens).toBeGreaterThan(0);
  });

  it("streams text deltas, then the finished result", async () => {
    const parts = await collect(
      localModel({ maxOutputTokens: 32 }).stream({
        messages: [{ role: "user", content: "Say hello to the team." }],
      }),
    );
    const deltas = parts.filter((part) => part.type === "text-delta");
    const finish = parts.at(-1);
    expect(deltas.length).toBeGreaterThan(0);
    expect(finish?.type).toBe("finish");
    if (finish?.type !== "finish") return;
    expect(finish.result.message.content.trim()).not.toBe("");
    expect(finish.result.usage.outputTokens).toBeLessThanOrEqual(32);
  });

  it("returns a call of the offered tool with JSON arguments, then answers from its result", async () => {
    const model = localModel();
    const question: ChatMessage = { role: "user", content: "What's the weather in Paris right now?" };
    const called = await model.generate({ messages: [question], tools: [weatherTool] });
    expect(called.finishReason).toBe("tool-calls");
    const [call] = called.message.toolCalls ?? [];
    expect(call?.name).toBe("get_weather");
    expect(call?.id).not.toBe("");
    const parsed = JSON.parse(call?.arguments ?? "") as unknown;
    expect(parsed).toEqual({ city: expect.any(String) as unknown });

    const parts = await collect(
      model.stream({
        messages: [
          question,
          called.message,
          {
            role: "tool",
            toolCallId: call?.id ?? "",
            name: "get_weather",
            content: '{"celsius":18,"sky":"sunny"}',
          },
        ],
        tools: [weatherTool],
      }),
    );
    expect(parts.some((part) => part.type === "tool-call")).toBe(false);
    const finish = parts.at(-1);
    expect(finish?.type).toBe("finish");
    if (finish?.type !== "finish") return;
    expect(finish.result.finishReason).toBe("stop");
    expect(finish.result.message.content.trim()).not.toBe("");
  });

  it("chooses among several tools, and answers without one when the request needs none", async () => {
    const tools = [
      weatherTool,
      {
        name: "get_time",
        description: "Get the current time in a time zone.",
        inputSchema: { type: "object", properties: { timezone: { type: "string" } }, required: ["timezone"] },
      },
      {
        name: "get_invoice",
        description: "Look up an invoice by its number.",
        inputSchema: { type: "object", properties: { number: { type: "string" } }, required: ["number"] },
      },
    ];
    const model = localModel();
    const timed = await model.generate({
      messages: [{ role: "user", content: "What time is it in Tokyo?" }],
      tools,
    });
    expect(timed.message.toolCalls?.map((call) => call.name)).toEqual(["get_time"]);
    const answered = await model.generate({
      messages: [{ role: "user", content: "What is the capital of Italy?" }],
      tools,
    });
    expect(answered.message.toolCalls).toBeUndefined();
    expect(answered.message.content.trim()).not.toBe("");
  });

  it("runs concurrent calls on the shared model one after the other", async () => {
    const results = await Promise.all(
      ["Name a color.", "Name a fruit."].map((content) =>
        localModel({ maxOutputTokens: 16 }).generate({ messages: [{ role: "user", content }] }),
      ),
    );
    for (const result of results) expect(result.message.content.trim()).not.toBe("");
  });

  it("stops generating when the caller aborts or stops reading, and serves the next call", async () => {
    const model = localModel({ maxOutputTokens: 256, temperature: 0.8 });
    const messages: ChatMessage[] = [{ role: "user", content: "Write a long story about a dragon." }];
    const controller = new AbortController();
    const aborted = await (async (): Promise<unknown> => {
      try {
        for await (const part of model.stream({ messages, signal: controller.signal })) {
          if (part.type === "text-delta") controller.abort();
        }
        return undefined;
      } catch (error) {
        return error;
      }
    })();
    expect(isFreeholdError(aborted, "model.aborted")).toBe(true);

    for await (const part of model.stream({ messages })) {
      if (part.type === "text-delta") break;
    }
    const next = await model.generate({ messages: [{ role: "user", content: "Say hi." }] });
    expect(next.message.content.trim()).not.toBe("");
  });

  it("streams a tool call as a tool-call part before the finish", async () => {
    const parts = await collect(
      localModel().stream({
        messages: [{ role: "user", content: "Is it raining in Tokyo?" }],
        tools: [weatherTool],
      }),
    );
    expect(parts.map((part) => part.type)).toEqual(["tool-call", "finish"]);
    const [toolCall] = parts;
    if (toolCall?.type !== "tool-call") return;
    expect(toolCall.toolCall.name).toBe("get_weather");
    expect(() => JSON.parse(toolCall.toolCall.arguments) as unknown).not.toThrow();
  });
});
