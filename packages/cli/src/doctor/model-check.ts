/**
 * `freehold doctor`'s model check: the endpoint of a Model answers its cheapest request (the model
 * list: `GET <baseUrl>/models` for OpenAI and OpenAI-compatible servers, Anthropic and Gemini) with
 * the API key from its Secret, and lists the model. A local model needs only its file.
 *
 * @module
 */
import { existsSync } from "node:fs";
import type { ModelSpec, SecretKeySelector } from "@freehold/api";
import { defaultBaseUrls } from "@freehold/models";
import { boundedText, errorMessage, result, type CheckResult } from "./check.ts";

function headersFor(spec: ModelSpec, key: string | undefined): Record<string, string> {
  if (key === undefined) return {};
  if (spec.provider === "anthropic") return { "x-api-key": key, "anthropic-version": "2023-06-01" };
  if (spec.provider === "gemini") return { "x-goog-api-key": key };
  return { authorization: `Bearer ${key}` };
}

/** The model ids a model list names (OpenAI and Anthropic: `data[].id`; Gemini: `models[].name`). */
function listedModels(text: string): string[] | undefined {
  try {
    const body = JSON.parse(text) as { data?: { id?: unknown }[]; models?: { name?: unknown }[] };
    const ids = [
      ...(body.data ?? []).map((entry) => entry.id),
      ...(body.models ?? []).map((entry) =>
        typeof entry.name === "string" ? entry.name.replace(/^models\//, "") : undefined,
      ),
    ];
    const named = ids.filter((id): id is string => typeof id === "string");
    return named.length === 0 ? undefined : named;
  } catch {
    return undefined;
  }
}

/**
 * Probes one Model.
 *
 * @example
 * ```ts
 * const line = await checkModel("default/gpt", spec, (reference) => readSecret(reference));
 * ```
 */
export async function checkModel(
  name: string,
  spec: ModelSpec,
  resolveSecret: (reference: SecretKeySelector) => Promise<string>,
  timeoutMs = 5_000,
): Promise<CheckResult> {
  const check = `model ${name}`;
  if (spec.provider === "local") {
    if (spec.path !== undefined && !existsSync(spec.path)) {
      return result(
        check,
        "fail",
        `the GGUF file ${spec.path} is not there`,
        "fix spec.path, or fetch the model there",
      );
    }
    return result(check, "ok", `local model ${spec.model}, run in the worker`);
  }
  let key: string | undefined;
  if (spec.apiKeySecretRef !== undefined) {
    try {
      key = await resolveSecret(spec.apiKeySecretRef);
    } catch (error) {
      return result(
        check,
        "fail",
        `its API key cannot be read: ${errorMessage(error)}`,
        `create Secret ${spec.apiKeySecretRef.name} with key ${spec.apiKeySecretRef.key}`,
      );
    }
  }
  const baseUrl =
    spec.baseUrl ?? (spec.provider === "openai-compatible" ? undefined : defaultBaseUrls[spec.provider]);
  if (baseUrl === undefined) {
    return result(
      check,
      "fail",
      "an openai-compatible model without spec.baseUrl",
      "set spec.baseUrl to the server's API",
    );
  }
  const url = `${baseUrl.replace(/\/$/, "")}/models`;
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, { headers: headersFor(spec, key), signal: AbortSignal.timeout(timeoutMs) });
    text = await boundedText(response);
  } catch (error) {
    return result(
      check,
      "fail",
      `${spec.provider} endpoint ${url} is not reachable: ${errorMessage(error)}`,
      "start the model server, or correct spec.baseUrl",
    );
  }
  if (response.status === 401 || response.status === 403) {
    return result(
      check,
      "fail",
      `${url} refused the API key (HTTP ${response.status})`,
      spec.apiKeySecretRef === undefined
        ? "set spec.apiKeySecretRef to the Secret that holds the API key"
        : `put a valid key in Secret ${spec.apiKeySecretRef.name} key ${spec.apiKeySecretRef.key}`,
    );
  }
  if (!response.ok) {
    return result(
      check,
      "fail",
      `GET ${url} answered HTTP ${response.status}`,
      "check spec.baseUrl and the server's log",
    );
  }
  const models = listedModels(text);
  if (models !== undefined && !models.includes(spec.model)) {
    return result(
      check,
      "warn",
      `${url} answers, but does not list ${spec.model} (it lists ${models.slice(0, 5).join(", ")}${models.length > 5 ? ", …" : ""})`,
      "check spec.model's spelling, or load the model on the server",
    );
  }
  return result(check, "ok", `${spec.provider} ${spec.model} at ${baseUrl}`);
}
