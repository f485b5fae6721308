/**
 * Requests to the Kubernetes API as plain JSON, authenticated by a client-node `KubeConfig`
 * (kubeconfig files, in-cluster service account tokens, exec plugins) over its keep-alive agent.
 * Failures are `FreeholdError`s: `kubernetes.not-found` (404), `kubernetes.conflict` (409),
 * `kubernetes.request-failed` (anything else; retryable for 429, 5xx and network errors).
 *
 * @module
 */
import { request as httpRequest, type IncomingMessage, type RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import { FreeholdError } from "@freehold/api";
import type { KubeConfig } from "@kubernetes/client-node";

/** Options of one request. */
export interface KubernetesRequestOptions {
  readonly body?: unknown;
  /** Default: application/json. */
  readonly contentType?: string;
  readonly query?: Readonly<Record<string, string | undefined>>;
  /** Default: 30 s. */
  readonly timeoutMs?: number;
}

/** A JSON client of one API server. */
export interface KubernetesHttp {
  request<T>(method: string, path: string, options?: KubernetesRequestOptions): Promise<T>;
}

interface StatusBody {
  readonly message?: string;
  readonly reason?: string;
}

function failure(method: string, path: string, status: number, text: string): FreeholdError {
  let body: StatusBody;
  try {
    body = JSON.parse(text) as StatusBody;
  } catch {
    body = { message: text.slice(0, 500) };
  }
  const code =
    status === 404
      ? "kubernetes.not-found"
      : status === 409
        ? "kubernetes.conflict"
        : "kubernetes.request-failed";
  return new FreeholdError(code, `${method} ${path} failed with ${status}: ${body.message ?? "no message"}`, {
    retryable: status === 409 || status === 429 || status >= 500,
    details: { status, ...(body.reason === undefined ? {} : { reason: body.reason }) },
  });
}

/**
 * A JSON client of the API server a KubeConfig points at.
 *
 * @example
 * ```ts
 * const kubeConfig = new KubeConfig();
 * kubeConfig.loadFromDefault();
 * const http = createKubernetesHttp(kubeConfig);
 * await http.request("GET", "/api/v1/namespaces/acme/secrets/openai");
 * ```
 */
export function createKubernetesHttp(kubeConfig: KubeConfig): KubernetesHttp {
  return {
    async request<T>(method: string, path: string, options: KubernetesRequestOptions = {}): Promise<T> {
      const cluster = kubeConfig.getCurrentCluster();
      if (cluster === null) {
        throw new FreeholdError(
          "kubernetes.no-cluster",
          "the kubeconfig has no current cluster; set KUBECONFIG or a context",
        );
      }
      const url = new URL(cluster.server.replace(/\/$/, "") + path);
      for (const [key, value] of Object.entries(options.query ?? {})) {
        if (value !== undefined) url.searchParams.set(key, value);
      }
      const requestOptions: RequestOptions & { headers: Record<string, string> } = {
        method,
        headers: { accept: "application/json" },
      };
      await kubeConfig.applyToHTTPSOptions(requestOptions);
      const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
      if (payload !== undefined) {
        requestOptions.headers["content-type"] = options.contentType ?? "application/json";
        requestOptions.headers["content-length"] = String(Buffer.byteLength(payload));
      }
      const send = url.protocol === "https:" ? httpsRequest : httpRequest;
      const response = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const call = send(url, requestOptions, (incoming: IncomingMessage) => {
          const chunks: Buffer[] = [];
          incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
          incoming.on("end", () => {
            resolve({ status: incoming.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") });
          });
          incoming.on("error", reject);
        });
        call.setTimeout(options.timeoutMs ?? 30_000, () => call.destroy(new Error("timed out")));
        call.on("error", (error) => {
          reject(
            new FreeholdError("kubernetes.request-failed", `${method} ${path} failed: ${error.message}`, {
              retryable: true,
              cause: error,
            }),
          );
        });
        call.end(payload);
      });
      if (response.status < 200 || response.status >= 300) {
        throw failure(method, path, response.status, response.text);
      }
      return (response.text === "" ? undefined : JSON.parse(response.text)) as T;
    },
  };
}
