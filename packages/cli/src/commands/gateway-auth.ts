/**
 * `freehold gateway`'s authentication and authorization from its flags: a token file, OIDC, and
 * Kubernetes TokenReview (in a chain, in that order); a policy file or SubjectAccessReview; the
 * HumanQueues' members and Agents' tools from a folder of manifests or the API server. It refuses
 * to build a gateway nobody can authenticate to: there is no unauthenticated mode.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { FreeholdError } from "@freehold/api";
import {
  createAuthenticatorChain,
  createCachedAuthorizer,
  createKubernetesClient,
  createKubernetesDirectory,
  createManifestDirectory,
  createOidcAuthenticator,
  createPolicyAuthorizer,
  createSubjectAccessReviewAuthorizer,
  createTokenFileAuthenticator,
  createTokenReviewAuthenticator,
  readPolicyFile,
  readTokenFile,
  type Authenticator,
  type Authorizer,
  type KubernetesConnection,
  type ResourceDirectory,
} from "@freehold/gateway";
import { loadResources } from "../dev/load-folder.ts";

/** The flags of `freehold gateway` about who may do what. */
export interface GatewayAuthOptions {
  readonly tokenFile?: string;
  readonly policyFile?: string;
  readonly oidcIssuer?: string;
  readonly oidcAudience?: readonly string[];
  readonly oidcGroupsClaim?: string;
  readonly oidcUsernameClaim?: string;
  readonly oidcJwksUrl?: string;
  /** TokenReview and SubjectAccessReview against the cluster the gateway runs in. */
  readonly kubernetesAuth?: boolean;
  readonly tokenReviewAudiences?: readonly string[];
  /** A folder of manifests: the HumanQueues' members and Agents' tools (`freehold dev`). */
  readonly manifests?: string;
}

/** What the gateway is built with. */
export interface GatewayAuth {
  readonly authenticator: Authenticator;
  readonly authorizer: Authorizer;
  readonly directory: ResourceDirectory;
  /** One line for the operator: what authenticates and authorizes. */
  readonly summary: string;
}

const serviceAccount = "/var/run/secrets/kubernetes.io/serviceaccount";

/** The API server of the cluster the process runs in, from its ServiceAccount mount. */
function inCluster(environment: Readonly<Record<string, string | undefined>>): KubernetesConnection {
  const host = environment.KUBERNETES_SERVICE_HOST;
  const port = environment.KUBERNETES_SERVICE_PORT ?? "443";
  if (host === undefined) {
    throw new FreeholdError(
      "cli.invalid-option",
      "--kubernetes-auth needs the in-cluster API server (KUBERNETES_SERVICE_HOST); run the gateway in the cluster or use --token-file / --oidc-issuer",
    );
  }
  return {
    server: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
    token: () => readFileSync(`${serviceAccount}/token`, "utf8"),
    ca: readFileSync(`${serviceAccount}/ca.crt`, "utf8"),
  };
}

/**
 * @example
 * ```ts
 * const auth = gatewayAuth({ tokenFile: "tokens.csv", policyFile: "policy.yaml" }, process.env, process.cwd(), log);
 * createGateway({ redis, ...auth });
 * ```
 */
export function gatewayAuth(
  options: GatewayAuthOptions,
  environment: Readonly<Record<string, string | undefined>>,
  cwd: string,
  log: (line: string) => void,
): GatewayAuth {
  const authenticators: Authenticator[] = [];
  const kubernetes =
    options.kubernetesAuth === true ? createKubernetesClient(inCluster(environment)) : undefined;
  if (options.tokenFile !== undefined)
    authenticators.push(createTokenFileAuthenticator(readTokenFile(options.tokenFile)));
  if (options.oidcIssuer !== undefined) {
    if (options.oidcAudience === undefined || options.oidcAudience.length === 0) {
      throw new FreeholdError(
        "cli.invalid-option",
        "--oidc-issuer needs --oidc-audience (the aud the tokens are for)",
      );
    }
    authenticators.push(
      createOidcAuthenticator({
        issuer: options.oidcIssuer,
        audience: options.oidcAudience,
        log,
        ...(options.oidcGroupsClaim === undefined ? {} : { groupsClaim: options.oidcGroupsClaim }),
        ...(options.oidcUsernameClaim === undefined ? {} : { usernameClaim: options.oidcUsernameClaim }),
        ...(options.oidcJwksUrl === undefined ? {} : { jwksUrl: options.oidcJwksUrl }),
      }),
    );
  }
  if (kubernetes !== undefined) {
    authenticators.push(
      createTokenReviewAuthenticator({
        client: kubernetes,
        ...(options.tokenReviewAudiences === undefined ? {} : { audiences: options.tokenReviewAudiences }),
      }),
    );
  }
  if (authenticators.length === 0) {
    throw new FreeholdError(
      "cli.no-authentication",
      "freehold gateway needs a way to authenticate callers: --token-file (freehold dev writes one), " +
        "--oidc-issuer with --oidc-audience, or --kubernetes-auth in a cluster",
    );
  }
  let authorizer: Authorizer;
  if (options.policyFile !== undefined)
    authorizer = createPolicyAuthorizer(readPolicyFile(options.policyFile));
  else if (kubernetes !== undefined)
    authorizer = createCachedAuthorizer(createSubjectAccessReviewAuthorizer({ client: kubernetes }), 5000);
  else {
    throw new FreeholdError(
      "cli.no-authorization",
      "freehold gateway needs a way to authorize actions: --policy-file (freehold dev writes one) or --kubernetes-auth in a cluster",
    );
  }
  let directory: ResourceDirectory;
  if (options.manifests !== undefined) {
    const manifests = createManifestDirectory();
    manifests.add(loadResources(options.manifests, cwd));
    directory = manifests;
  } else if (kubernetes !== undefined) directory = createKubernetesDirectory({ client: kubernetes });
  else directory = createManifestDirectory();
  const chain = createAuthenticatorChain(authenticators);
  return {
    authenticator: chain,
    authorizer,
    directory,
    summary:
      `authentication: ${chain.name}; authorization: ${options.policyFile === undefined ? "SubjectAccessReview" : "policy file"}` +
      (options.manifests === undefined ? "" : `; queues and agents from ${options.manifests}`),
  };
}
