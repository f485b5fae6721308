/**
 * Who is calling: the {@link Identity} every request carries once authenticated, the
 * {@link Authenticator} interface that turns a bearer token into one, and the chain that asks each
 * configured authenticator in turn. A token no authenticator recognizes is a 401; the token itself
 * never appears in an error or a log line.
 *
 * @module
 */
import { FreeholdError } from "@freehold/api";

/** A verified caller: the user name and groups as the authenticator reported them. */
export interface Identity {
  readonly user: string;
  readonly groups: readonly string[];
}

/** The Hono context variables the gateway sets: `identity` on every authenticated route. */
export interface AuthVariables {
  identity: Identity;
}

/**
 * Turns a bearer token into an identity: `undefined` when the token is not one this authenticator
 * knows (the chain asks the next); throws only when it cannot decide (its backend is down).
 */
export interface Authenticator {
  /** For log lines: `token-file`, `oidc`, `kubernetes`. */
  readonly name: string;
  authenticate(token: string, signal?: AbortSignal): Promise<Identity | undefined>;
}

/** The realm in `WWW-Authenticate`. */
export const authRealm = "freehold";

/** The 401 of a request without a bearer token. */
export function missingTokenError(): FreeholdError {
  return new FreeholdError(
    "auth.unauthenticated",
    "this request needs a bearer token: send Authorization: Bearer <token> (freehold dev prints one; " +
      "the CLI reads FREEHOLD_TOKEN or the dev token file)",
  );
}

/** The 401 of a token no authenticator accepted. */
export function invalidTokenError(): FreeholdError {
  return new FreeholdError(
    "auth.unauthenticated",
    "the bearer token is not valid (unknown, expired, or for another audience or issuer): get a new one",
  );
}

/**
 * The bearer token of a request: `undefined` without an `Authorization: Bearer` header; a header
 * of another scheme is treated as no token.
 */
export function bearerToken(headers: Headers): string | undefined {
  const header = headers.get("authorization");
  if (header === null) return undefined;
  const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * Asks each authenticator in order; the first identity wins. None: `undefined`.
 *
 * @example
 * ```ts
 * const chain = createAuthenticatorChain([tokenFile, oidc, kubernetes]);
 * const identity = await chain.authenticate(token); // { user: "ann", groups: ["billing"] }
 * ```
 */
export function createAuthenticatorChain(authenticators: readonly Authenticator[]): Authenticator {
  return {
    name: authenticators.map((authenticator) => authenticator.name).join("+"),
    async authenticate(token, signal) {
      for (const authenticator of authenticators) {
        const identity = await authenticator.authenticate(token, signal);
        if (identity !== undefined) return identity;
      }
      return undefined;
    },
  };
}
