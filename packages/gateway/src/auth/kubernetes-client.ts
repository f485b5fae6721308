/**
 * The few calls the gateway makes to the Kubernetes API server (TokenReview, SubjectAccessReview,
 * reading HumanQueues and Agents), over `node:https` with the cluster's CA and the gateway's own
 * ServiceAccount token (re-read on every call: projected tokens rotate).
 *
 * @module
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { FreeholdError } from "@freehold/api";

/** Where the API server is and how the gateway authenticates to it. */
export interface KubernetesConnection {
  /** `https://10.96.0.1:443`, or `https://127.0.0.1:6443` in tests. */
  readonly server: string;
  /** The gateway's bearer token (called per request). */
  readonly token: () => string;
  /** PEM of the CA that signed the API server's certificate; default: the system's. */
  readonly ca?: string;
}

/** A JSON call to the API server. */
export interface KubernetesClient {
  /** The parsed body for a 2xx, `undefined` for a 404; anything else throws `kubernetes.unavailable`. */
  call(method: "GET" | "POST", path: string, body?: unknown, signal?: AbortSignal): Promise<unknown>;
}

const timeoutMs = 10_000;

/**
 * @example
 * ```ts
 * const client = createKubernetesClient({ server, token: () => readFileSync(tokenPath, "utf8"), ca });
 * await client.call("POST", "/apis/authentication.k8s.io/v1/tokenreviews", review);
 * ```
 */
export function createKubernetesClient(connection: KubernetesConnection): KubernetesClient {
  const base = new URL(connection.server);
  const send = base.protocol === "https:" ? httpsRequest : httpRequest;
  return {
    call(method, path, body, signal) {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      return new Promise((resolve, reject) => {
        const failed = (reason: string, cause?: unknown): void => {
          reject(
            new FreeholdError(
              "kubernetes.unavailable",
              `the Kubernetes API server at ${base.origin} failed ${method} ${path}: ${reason}; retry shortly`,
              { retryable: true, cause },
            ),
          );
        };
        const outgoing = send(
          new URL(path, base),
          {
            method,
            headers: {
              authorization: `Bearer ${connection.token().trim()}`,
              accept: "application/json",
              ...(payload === undefined ? {} : { "content-type": "application/json" }),
            },
            ...(connection.ca === undefined ? {} : { ca: connection.ca }),
            timeout: timeoutMs,
            ...(signal === undefined ? {} : { signal }),
          },
          (response) => {
            const chunks: Buffer[] = [];
            response.on("data", (chunk: Buffer) => chunks.push(chunk));
            response.on("error", (error) => {
              failed(error.message, error);
            });
            response.on("end", () => {
              const status = response.statusCode ?? 0;
              const text = Buffer.concat(chunks).toString("utf8");
              if (status === 404) {
                resolve(undefined);
                return;
              }
              if (status < 200 || status >= 300) {
                failed(`status ${status}: ${text.slice(0, 300)}`);
                return;
              }
              try {
                resolve(JSON.parse(text) as unknown);
              } catch (error) {
                failed("the answer is not JSON", error);
              }
            });
          },
        );
        outgoing.on("timeout", () => outgoing.destroy(new Error(`no answer in ${timeoutMs} ms`)));
        outgoing.on("error", (error) => {
          failed(error.message, error);
        });
        outgoing.end(payload);
      });
    },
  };
}
