/**
 * OIDC bearer JWTs verified by the gateway itself (for gateways outside the cluster and the web
 * console): the signature against the issuer's JWKS (fetched and cached by jose), the issuer, the
 * audience, the expiry with a small clock tolerance, asymmetric algorithms only (`alg: none` and
 * HMAC are refused). The user is a claim (default `sub`), the groups another (default `groups`).
 *
 * @module
 */
import { FreeholdError } from "@freehold/api";
import { createRemoteJWKSet, decodeJwt, errors, jwtVerify, type JWTPayload } from "jose";
import { z } from "zod";
import type { Authenticator, Identity } from "./identity.ts";

/** Options of {@link createOidcAuthenticator}. */
export interface OidcOptions {
  /** The `iss` the tokens carry, e.g. `https://login.example.com/realms/acme`. */
  readonly issuer: string;
  /** The `aud` the tokens must name (one of them). */
  readonly audience: string | readonly string[];
  /** The JWKS; default: `jwks_uri` of `<issuer>/.well-known/openid-configuration`. */
  readonly jwksUrl?: string;
  /** The claim with the user name (default `sub`). */
  readonly usernameClaim?: string;
  /** The claim with the groups: a list or one string (default `groups`). */
  readonly groupsClaim?: string;
  /** Seconds of clock skew allowed on `exp` and `nbf` (default 30). */
  readonly clockToleranceSeconds?: number;
  /** Where verification failures are reported (the reason, never the token). */
  readonly log?: (message: string) => void;
}

const defaults = {
  usernameClaim: "sub",
  groupsClaim: "groups",
  clockToleranceSeconds: 30,
} satisfies Partial<OidcOptions>;

/** Signature algorithms accepted: asymmetric ones only. */
const algorithms = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];

const Discovery = z.object({ jwks_uri: z.url() });

function unavailable(issuer: string, error: unknown): FreeholdError {
  return new FreeholdError(
    "auth.unavailable",
    `cannot fetch the signing keys of the OIDC issuer ${issuer}: ${(error as Error).message}; retry shortly`,
    { retryable: true, cause: error },
  );
}

async function discoverJwks(issuer: string): Promise<URL> {
  const url = `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return new URL(Discovery.parse(await response.json()).jwks_uri);
}

function claimGroups(payload: JWTPayload, claim: string): string[] {
  const value = payload[claim];
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.filter((group): group is string => typeof group === "string");
  return [];
}

/**
 * @example
 * ```ts
 * const oidc = createOidcAuthenticator({ issuer: "https://login.example.com", audience: "freehold" });
 * await oidc.authenticate(jwt); // { user: "ann@example.com", groups: ["billing-desk"] }
 * ```
 */
export function createOidcAuthenticator(options: OidcOptions): Authenticator {
  const settings = { ...defaults, ...options };
  const audience = typeof settings.audience === "string" ? settings.audience : [...settings.audience];
  let keys: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;
  const keySet = (): Promise<ReturnType<typeof createRemoteJWKSet>> => {
    keys ??= (
      settings.jwksUrl === undefined
        ? discoverJwks(settings.issuer)
        : Promise.resolve(new URL(settings.jwksUrl))
    )
      .then((url) =>
        createRemoteJWKSet(url, { timeoutDuration: 5000, cooldownDuration: 30_000, cacheMaxAge: 600_000 }),
      )
      .catch((error: unknown) => {
        keys = undefined;
        throw unavailable(settings.issuer, error);
      });
    return keys;
  };
  return {
    name: "oidc",
    async authenticate(token) {
      let issuer: string | undefined;
      try {
        issuer = decodeJwt(token).iss;
      } catch {
        return undefined; // not a JWT: another authenticator's token
      }
      if (issuer !== settings.issuer) return undefined;
      try {
        const { payload } = await jwtVerify(token, await keySet(), {
          issuer: settings.issuer,
          audience,
          algorithms,
          clockTolerance: settings.clockToleranceSeconds,
          requiredClaims: ["exp"],
        });
        const user = payload[settings.usernameClaim];
        if (typeof user !== "string" || user === "") {
          settings.log?.(`OIDC token of ${settings.issuer} refused: no ${settings.usernameClaim} claim`);
          return undefined;
        }
        return { user, groups: claimGroups(payload, settings.groupsClaim) } satisfies Identity;
      } catch (error) {
        if (error instanceof FreeholdError) throw error;
        if (error instanceof errors.JWKSTimeout || !(error instanceof errors.JOSEError)) {
          throw unavailable(settings.issuer, error);
        }
        settings.log?.(`OIDC token of ${settings.issuer} refused: ${error.code}`);
        return undefined;
      }
    },
  };
}
