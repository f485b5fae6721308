/**
 * `Model`: a model a user owns or rents: provider, model name, endpoint, API key, parameters and
 * fallbacks.
 *
 * @module
 */
import { z } from "zod";
import { statusBase } from "./conditions.ts";
import { DnsLabel, SecretKeySelector } from "./names.ts";
import { defineResource } from "./resource.ts";
import { withRules } from "./validation-rule.ts";

/**
 * The providers: `openai-compatible` covers vLLM, Ollama, llama.cpp server, LM Studio and any other
 * server of the OpenAI chat completions API; `local` runs a GGUF model inside the worker on CPU.
 */
export const providers = ["openai", "openai-compatible", "anthropic", "gemini", "local"] as const;
export const Provider = z.enum(providers);
export type Provider = z.infer<typeof Provider>;

/** Providers whose hosted API needs a key. */
const hostedProviders = ["openai", "anthropic", "gemini"] as const;

export const ModelParameters = z
  .strictObject({
    temperature: z.number().min(0).max(2).optional().describe("Sampling temperature, 0 to 2."),
    topP: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe("Nucleus sampling: the probability mass to sample from."),
    maxOutputTokens: z
      .int()
      .min(1)
      .max(1_000_000)
      .optional()
      .describe("The most tokens one model call may write."),
    seed: z.int().min(0).max(2_147_483_647).optional().describe("A seed, for providers that support it."),
    stop: z.array(z.string().min(1).max(256)).max(16).optional().describe("Sequences that end the output."),
  })
  .describe("Sampling parameters passed with every call.");
export type ModelParameters = z.infer<typeof ModelParameters>;

export const ModelSpec = withRules(
  z
    .strictObject({
      provider: Provider.describe(
        "Who serves the model: openai, openai-compatible (vLLM, Ollama, llama.cpp, LM Studio, ...), " +
          "anthropic, gemini, or local (a GGUF file run in the worker).",
      ),
      model: z
        .string()
        .min(1)
        .max(256)
        .describe("The model's name at the provider, e.g. gpt-4o-mini, llama3.1:8b; for local, a GGUF name."),
      baseUrl: z
        .url({ protocol: /^https?$/ })
        .max(2048)
        .regex(/^https?:\/\//, "must be an http:// or https:// URL")
        .optional()
        .describe("The endpoint, e.g. http://vllm.models:8000/v1. Required for openai-compatible."),
      apiKeySecretRef: SecretKeySelector.optional().describe(
        "The Secret key that holds the API key. Required for openai, anthropic and gemini.",
      ),
      path: z
        .string()
        .min(1)
        .max(4096)
        .optional()
        .describe("For local: the GGUF file's path in the worker. Default: the embedded small model."),
      parameters: ModelParameters.optional(),
      timeoutSeconds: z.int().min(1).max(3600).default(120).describe("How long one model call may take."),
      maxRetries: z
        .int()
        .min(0)
        .max(10)
        .default(2)
        .describe("Retries of a retryable failure (rate limit, timeout, 5xx) before falling back."),
      fallbacks: z
        .array(z.strictObject({ ref: DnsLabel.describe("The name of another Model in the namespace.") }))
        .max(8)
        .optional()
        .describe("Models tried in order when this one fails with a retryable error after its retries."),
    })
    .describe("The desired state of a Model."),
  [
    {
      rule: "self.provider != 'openai-compatible' || has(self.baseUrl)",
      message: "baseUrl is required when provider is openai-compatible",
      fieldPath: ".baseUrl",
      reason: "FieldValueRequired",
      check: (spec) => spec.provider !== "openai-compatible" || spec.baseUrl !== undefined,
    },
    {
      rule: `!(self.provider in ${JSON.stringify(hostedProviders).replaceAll('"', "'")}) || has(self.apiKeySecretRef)`,
      message: "apiKeySecretRef is required for a hosted provider (openai, anthropic, gemini)",
      fieldPath: ".apiKeySecretRef",
      reason: "FieldValueRequired",
      check: (spec) =>
        !(hostedProviders as readonly string[]).includes(spec.provider) || spec.apiKeySecretRef !== undefined,
    },
    {
      rule: "self.provider == 'local' || !has(self.path)",
      message: "path applies only to provider local",
      fieldPath: ".path",
      reason: "FieldValueForbidden",
      check: (spec) => spec.provider === "local" || spec.path === undefined,
    },
    {
      rule: "self.provider != 'local' || (!has(self.baseUrl) && !has(self.apiKeySecretRef))",
      message: "a local model runs in the worker: it takes no baseUrl or apiKeySecretRef",
      fieldPath: ".provider",
      check: (spec) =>
        spec.provider !== "local" || (spec.baseUrl === undefined && spec.apiKeySecretRef === undefined),
    },
  ],
);
export type ModelSpec = z.infer<typeof ModelSpec>;

export const ModelStatus = z
  .strictObject({
    ...statusBase,
    reachable: z.boolean().optional().describe("Whether the last probe of the endpoint answered."),
  })
  .describe("The observed state of a Model.");

export const Model = defineResource({
  kind: "Model",
  plural: "models",
  shortNames: ["mdl"],
  scope: "Namespaced",
  description: "A model a user owns or rents: provider, model name, endpoint, key, parameters, fallbacks.",
  spec: ModelSpec,
  status: ModelStatus,
  printerColumns: [
    { name: "Provider", type: "string", jsonPath: ".spec.provider" },
    { name: "Model", type: "string", jsonPath: ".spec.model" },
    { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ],
  nameRule: "label",
  rules: [
    {
      rule: "!has(self.spec.fallbacks) || self.spec.fallbacks.all(f, f.ref != self.metadata.name)",
      message: "a model cannot be its own fallback",
      fieldPath: ".spec.fallbacks",
      check: (name, spec) => !(spec.fallbacks ?? []).some((fallback) => fallback.ref === name),
    },
  ],
});
export type Model = z.infer<typeof Model.schema>;
