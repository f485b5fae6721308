/**
 * Turns an `MCPServer` spec into a pool connection, resolving header and environment values held in
 * Secrets. In a cluster the operator runs stdio servers behind the stdio bridge and agents reach
 * them over HTTP (the MCPServer's `status.url`); `freehold dev` spawns them directly with the stdio
 * connection made here.
 *
 * @module
 */
import { FreeholdError, type McpServerSpec, type SecretKeySelector } from "@freehold/api";
import type { McpConnection } from "./mcp-connection.ts";

/** A header or environment variable of a spec: a literal or a Secret key. */
interface NamedValue {
  readonly name: string;
  readonly value?: string | undefined;
  readonly secretKeyRef?: SecretKeySelector | undefined;
}

/**
 * The connection of an `MCPServer` spec. Secret values are resolved with `resolveSecret` and never
 * appear in errors.
 *
 * @example
 * ```ts
 * const connection = await connectionFromSpec(
 *   { http: { url: "http://billing-mcp:8080/mcp", headers: [{ name: "Authorization", secretKeyRef: { name: "billing", key: "token" } }] }, timeoutSeconds: 60 },
 *   async ({ name, key }) => await readSecret(namespace, name, key),
 * );
 * const pool = createMcpPool({ "billing-api": connection });
 * ```
 */
export async function connectionFromSpec(
  spec: McpServerSpec,
  resolveSecret: (ref: SecretKeySelector) => Promise<string>,
): Promise<McpConnection> {
  const timeoutMs = spec.timeoutSeconds * 1_000;
  if (spec.http !== undefined) {
    const headers = await resolveAll(spec.http.headers ?? [], "header", resolveSecret);
    return {
      transport: "http",
      url: spec.http.url,
      ...(spec.http.headers === undefined ? {} : { headers }),
      timeoutMs,
    };
  }
  if (spec.sse !== undefined) {
    const headers = await resolveAll(spec.sse.headers ?? [], "header", resolveSecret);
    return {
      transport: "sse",
      url: spec.sse.url,
      ...(spec.sse.headers === undefined ? {} : { headers }),
      timeoutMs,
    };
  }
  if (spec.stdio !== undefined) {
    const env = await resolveAll(spec.stdio.env ?? [], "environment variable", resolveSecret);
    return {
      transport: "stdio",
      command: spec.stdio.command,
      ...(spec.stdio.args === undefined ? {} : { args: spec.stdio.args }),
      ...(spec.stdio.env === undefined ? {} : { env }),
      ...(spec.stdio.workingDir === undefined ? {} : { cwd: spec.stdio.workingDir }),
      timeoutMs,
    };
  }
  throw new FreeholdError(
    "manifest.invalid",
    "an MCPServer needs exactly one transport: set spec.http, spec.sse or spec.stdio",
    {
      details: { field: "spec" },
    },
  );
}

async function resolveAll(
  values: readonly NamedValue[],
  kind: string,
  resolveSecret: (ref: SecretKeySelector) => Promise<string>,
): Promise<Record<string, string>> {
  const entries = await Promise.all(
    values.map(async ({ name, value, secretKeyRef }): Promise<[string, string]> => {
      if (secretKeyRef === undefined) return [name, value ?? ""];
      try {
        return [name, await resolveSecret(secretKeyRef)];
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new FreeholdError(
          "mcp.secret-unresolved",
          `could not read ${kind} ${name} from key "${secretKeyRef.key}" of Secret "${secretKeyRef.name}": ${reason}`,
          {
            retryable: error instanceof FreeholdError ? error.retryable : false,
            cause: error,
            details: { name, secret: secretKeyRef.name, key: secretKeyRef.key },
          },
        );
      }
    }),
  );
  return Object.fromEntries(entries);
}
