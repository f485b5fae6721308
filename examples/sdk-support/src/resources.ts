/**
 * The entry: every resource of the support desk, for `freehold dev src/resources.ts` (the tools run in
 * that process) and `freehold build src/resources.ts` (the manifests, for `kubectl apply`).
 *
 * Settings, read here only:
 * - `MODEL_BASE_URL`, `MODEL_NAME`: the OpenAI-compatible model (default: the scripted model of
 *   model-script.json, as `pnpm model` serves it);
 * - `REFUNDS_FILE`: the refunds ledger the tools write (default: .data/refunds.jsonl).
 *
 * @module
 */
import { join } from "node:path";
import { defineModel, defineToolServer } from "@freehold/sdk";
import { billingToolsName, modelName } from "./agents.ts";
import { createBillingTools } from "./tools.ts";

export { billing, billingTeam, triage } from "./agents.ts";

export const model = defineModel({
  name: modelName,
  provider: "openai-compatible",
  model: process.env.MODEL_NAME ?? "scripted-support",
  baseUrl: process.env.MODEL_BASE_URL ?? "http://127.0.0.1:8768/v1",
});

/**
 * The tools as an MCPServer: in-process under `freehold dev`. In a cluster, either served by
 * src/serve.ts behind a Service named billing-tools, which agents call with the token of Secret
 * billing-tools (this manifest), or, built with `freehold build --tool-image <image>`, a stdio server
 * the operator runs from that image (`freehold tools serve src/resources.ts --server billing-tools`).
 */
export const billingTools = defineToolServer({
  name: billingToolsName,
  description: "Orders, invoices and refunds (src/tools.ts).",
  tools: createBillingTools({
    refundsFile: process.env.REFUNDS_FILE ?? join(import.meta.dirname, "..", ".data", "refunds.jsonl"),
  }),
  http: {
    url: `http://${billingToolsName}:8080/mcp`,
    headers: [{ name: "Authorization", secretKeyRef: { name: billingToolsName, key: "authorization" } }],
  },
});
