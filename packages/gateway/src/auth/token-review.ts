/**
 * Kubernetes TokenReview: the API server says whose token it is (ServiceAccount tokens, and
 * whatever else the cluster authenticates, OIDC included). A token the API server does not accept
 * is `undefined`; accepted identities are remembered for a few seconds, keyed by the token's
 * SHA-256 (the token itself is never kept or logged).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import type { Authenticator, Identity } from "./identity.ts";
import type { KubernetesClient } from "./kubernetes-client.ts";

/** Options of {@link createTokenReviewAuthenticator}. */
export interface TokenReviewOptions {
  readonly client: KubernetesClient;
  /** Audiences the token must be for (default: the API server's). */
  readonly audiences?: readonly string[];
  /** How long an answer is remembered, in milliseconds (default 10 000; 0: not at all). */
  readonly cacheMs?: number;
}

const TokenReviewAnswer = z.object({
  status: z
    .object({
      authenticated: z.boolean().optional(),
      user: z.object({ username: z.string().optional(), groups: z.array(z.string()).optional() }).optional(),
      audiences: z.array(z.string()).optional(),
    })
    .optional(),
});

/** Cached answers at most; the oldest go first. */
const cacheLimit = 10_000;

/**
 * @example
 * ```ts
 * const kubernetes = createTokenReviewAuthenticator({ client, audiences: ["freehold"] });
 * await kubernetes.authenticate(serviceAccountToken); // { user: "system:serviceaccount:acme:bot", groups: [...] }
 * ```
 */
export function createTokenReviewAuthenticator(options: TokenReviewOptions): Authenticator {
  const cacheMs = options.cacheMs ?? 10_000;
  const cache = new Map<string, { readonly identity: Identity | undefined; readonly until: number }>();
  return {
    name: "kubernetes",
    async authenticate(token, signal) {
      const key = createHash("sha256").update(token).digest("base64");
      const cached = cache.get(key);
      if (cached !== undefined && cached.until > Date.now()) return cached.identity;
      const answer = TokenReviewAnswer.parse(
        await options.client.call(
          "POST",
          "/apis/authentication.k8s.io/v1/tokenreviews",
          {
            apiVersion: "authentication.k8s.io/v1",
            kind: "TokenReview",
            spec: {
              token,
              ...(options.audiences === undefined ? {} : { audiences: [...options.audiences] }),
            },
          },
          signal,
        ),
      );
      const status = answer.status;
      const username = status?.user?.username;
      const identity =
        status?.authenticated === true && username !== undefined && username !== ""
          ? { user: username, groups: status.user?.groups ?? [] }
          : undefined;
      if (cacheMs > 0) {
        if (cache.size >= cacheLimit) cache.delete(cache.keys().next().value ?? "");
        cache.set(key, { identity, until: Date.now() + cacheMs });
      }
      return identity;
    },
  };
}
