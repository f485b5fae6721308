import { describe, expect, it } from "vitest";
import {
  classifyModelError,
  modelErrorFromResponse,
  networkErrorCode,
  type ModelCallContext,
} from "./model-error.ts";

const context: ModelCallContext = {
  provider: "openai",
  modelId: "gpt-4o-mini",
  url: "https://api.openai.com/v1/chat/completions",
};

describe("classifyModelError", () => {
  it.each([
    [401, {}, "model.auth"],
    [403, { message: "permission denied" }, "model.auth"],
    [404, {}, "model.not-found"],
    [408, {}, "model.timeout"],
    [413, {}, "model.context-length"],
    [429, {}, "model.rate-limit"],
    [500, {}, "model.provider"],
    [529, {}, "model.provider"],
    [400, { code: "context_length_exceeded" }, "model.context-length"],
    [400, { message: "prompt is too long: 208310 tokens > 200000 maximum" }, "model.context-length"],
    [400, { type: "exceed_context_size_error" }, "model.context-length"],
    [400, { code: "content_filter" }, "model.content-filter"],
    [400, { code: "API_KEY_INVALID" }, "model.auth"],
    [400, { message: "The model `llama9` does not exist." }, "model.not-found"],
    [400, { message: "temperature: must be at most 1" }, "model.invalid-request"],
    [422, {}, "model.invalid-request"],
  ] as const)("maps HTTP %i %j to %s", (status, body, code) => {
    expect(classifyModelError(status, body)).toBe(code);
  });
});

describe("modelErrorFromResponse", () => {
  it("names the provider, model and URL, and never the key", () => {
    const error = modelErrorFromResponse({
      context,
      status: 401,
      body: { message: "Incorrect API key provided: sk-secret-key-1234" },
      apiKey: "sk-secret-key-1234",
    });
    expect(error.code).toBe("model.auth");
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(
      'openai model "gpt-4o-mini" at https://api.openai.com/v1/chat/completions',
    );
    expect(error.message).not.toContain("sk-secret-key-1234");
    expect(error.details).toMatchObject({ provider: "openai", model: "gpt-4o-mini", status: 401 });
  });

  it("marks rate limits retryable with their wait, but not a used-up quota", () => {
    const limited = modelErrorFromResponse({ context, status: 429, body: {}, retryAfterMs: 2000 });
    expect(limited).toMatchObject({
      code: "model.rate-limit",
      retryable: true,
      details: { retryAfterMs: 2000 },
    });
    expect(limited.message).toContain("Retry after 2s");
    const quota = modelErrorFromResponse({ context, status: 429, body: { code: "insufficient_quota" } });
    expect(quota).toMatchObject({ code: "model.rate-limit", retryable: false });
  });

  it("takes the status of an in-stream error from its type", () => {
    const error = modelErrorFromResponse({
      context,
      status: undefined,
      body: { type: "overloaded_error", message: "Overloaded" },
    });
    expect(error).toMatchObject({ code: "model.provider", retryable: true });
    expect(error.message).toContain("in the stream");
  });
});

describe("networkErrorCode", () => {
  it("finds the system code in a fetch failure's causes", () => {
    const cause = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    expect(networkErrorCode(new TypeError("fetch failed", { cause }))).toBe("ECONNREFUSED");
    expect(networkErrorCode(new TypeError("fetch failed"))).toBeUndefined();
  });
});
