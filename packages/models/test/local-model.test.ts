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

/** The published filesystem MCP server's tool, with its long description, as the quickstart offers it. */
const readTextFileTool = {
  name: "read_text_file",
  description:
    "Read the complete contents of a file from the file system as text. Handles various text encodings " +
    "and provides detailed error messages if the file cannot be read. Use this tool when you need to " +
    "examine the contents of a single file. Use the 'head' parameter to read only the first N lines of " +
    "a file, or the 'tail' parameter to read only the last N lines of a file. Operates on the file as " +
    "text regardless of extension. Only works within allowed directories.",
  inputSchema: {
    type: "object",
    properties: {
      path: { type: "string" },
      tail: { type: "number", description: "If provided, returns only the last N lines of the file" },
      head: { type: "number", description: "If provided, returns only the first N lines of the file" },
    },
    required: ["path"],
  },
};

/** The quickstart agent's instructions (examples/quickstart/agent.yaml). */
const teamsInstructions: ChatMessage = {
  role: "system",
  content:
    "You answer questions about ACME's teams. The facts are in the file teams.md.\n" +
    'First call read_text_file with path "teams.md". Then answer in one short sentence, using only the file.',
};

const teamsFile =
  "# ACME teams\n\n" +
  "- Platform team: led by Dana Okafor. Owns the Kubernetes clusters, the CI runners and the internal developer portal.\n" +
  "- Billing team: led by Marco Ruiz. Owns invoicing, refunds and the payment provider integration.\n" +
  "- Support team: led by Priya Natarajan. Owns the help desk, on-call rotations and the status page.\n";

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

  it("calls the tool the agent's instructions name for requests in the agent's domain", async () => {
    const model = localModel();
    for (const content of [
      "Who leads the platform team at ACME, and what do they own?",
      "Which team owns the CI runners?",
      "Who leads the billing team?",
    ]) {
      const result = await model.generate({
        messages: [teamsInstructions, { role: "user", content }],
        tools: [readTextFileTool],
      });
      expect(result.finishReason).toBe("tool-calls");
      const [call] = result.message.toolCalls ?? [];
      expect(call?.name).toBe("read_text_file");
      expect(JSON.parse(call?.arguments ?? "")).toMatchObject({ path: expect.any(String) as unknown });
    }
  });

  it("does not call a tool that the instructions name for other requests", async () => {
    const emailTool = {
      name: "send_email",
      description: "Send an email to a recipient with a subject and body.",
      inputSchema: { type: "object", properties: { to: { type: "string" } }, required: ["to"] },
    };
    const answered = await localModel().generate({
      messages: [
        {
          role: "system",
          content: "You help ACME's staff. Use send_email only when the user asks you to send an email.",
        },
        { role: "user", content: "What is the capital of Italy?" },
      ],
      tools: [weatherTool, emailTool],
    });
    expect(answered.message.toolCalls).toBeUndefined();
    expect(answered.message.content.trim()).not.toBe("");
  });

  it("answers from a text result with clean text, which the streamed deltas add up to", async () => {
    const question: ChatMessage = {
      role: "user",
      content: "Who leads the platform team at ACME, and what do they own?",
    };
    const parts = await collect(
      localModel().stream({
        messages: [
          teamsInstructions,
          question,
          {
            role: "assistant",
            content: "",
            toolCalls: [{ id: "call_1", name: "read_text_file", arguments: '{"path":"teams.md"}' }],
          },
          { role: "tool", toolCallId: "call_1", name: "read_text_file", content: teamsFile },
        ],
        tools: [readTextFileTool],
      }),
    );
    const finish = parts.at(-1);
    expect(finish?.type).toBe("finish");
    if (finish?.type !== "finish") return;
    const text = finish.result.message.content;
    expect(text).not.toBe("");
    expect(text).toBe(text.trim());
    expect(text).not.toMatch(/\|\|(call|result):|^(Question|Answer):/m);
    const deltas = parts.flatMap((part) => (part.type === "text-delta" ? [part.text] : []));
    expect(deltas.join("")).toBe(text);
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
