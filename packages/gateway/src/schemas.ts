/**
 * The gateway's wire shapes: the bodies (from `@freehold/api`, shared with the typed client), the
 * health status and the path parameters. Like every other body they are zod schemas, parsed on every
 * request and turned into the OpenAPI document.
 *
 * @module
 */
import { DnsLabel } from "@freehold/api";
import { z } from "zod";

// The bodies are the API's own (`@freehold/api`, where the typed client reads them too).
export {
  AgentList,
  AgentSummary,
  ApprovalItemList,
  ErrorBody,
  HumanQueueList,
  InboxItemList,
  RunDetails,
  RunEventList,
  RunId,
  RunList,
  RunSummary,
  StartRunBody,
  StoredRunEvent,
} from "@freehold/api";

/** `GET /healthz` and `GET /readyz`. */
export const HealthStatus = z.object({ status: z.enum(["ok", "ready"]) });

/** Path parameters, named as in the OpenAPI document. */
export const NamespaceParameter = DnsLabel.describe("The namespace (tenant).");
export const AgentParameter = DnsLabel.describe("The agent's name.");
export const QueueParameter = DnsLabel.describe("The HumanQueue's name.");

/**
 * A run or item id in a path: letters, digits, '.', '_' and '-', at most 200 characters (no ':',
 * no '/'). The edge checks path ids with this same schema before anything else runs, so the
 * document's pattern is the one enforced.
 */
export const PathId = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/,
    "must be letters, digits, '.', '_' or '-', starting with a letter or digit, at most 200 characters",
  );
export const ItemParameter = PathId.describe("The item's id.");
export const RunParameter = PathId.describe("The run's id.");
