/**
 * Sign-in at the OIDC issuer the gateway trusts: the authorization code flow with PKCE (S256), as a
 * public client whose redirect URI is the console's own page. The page keeps the verifier, state and
 * nonce in this tab's session storage across the redirect, checks `state` on return, trades the code
 * for tokens at the issuer's token endpoint, checks the ID token's `nonce`, `aud` and `iss`, and
 * signs in with the ID token (the gateway verifies its signature; its audience is the client id).
 *
 * @module
 */

/** What `/console-config.json` says about OIDC. */
export interface OidcConfig {
  readonly issuer: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
}

interface Discovery {
  readonly authorization_endpoint: string;
  readonly token_endpoint: string;
}

const pendingKey = "freehold.oidc.pending";

function base64url(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function randomText(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

async function discover(issuer: string): Promise<Discovery> {
  const response = await fetch(`${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`);
  if (!response.ok)
    throw new Error(`the sign-in service at ${issuer} answered ${response.status}; try again later`);
  const document = (await response.json()) as Partial<Discovery>;
  if (typeof document.authorization_endpoint !== "string" || typeof document.token_endpoint !== "string") {
    throw new Error(`the sign-in service at ${issuer} does not describe its endpoints`);
  }
  return { authorization_endpoint: document.authorization_endpoint, token_endpoint: document.token_endpoint };
}

/** The page's own address without query or fragment: the redirect URI the client is registered with. */
function redirectUri(): string {
  return `${window.location.origin}/`;
}

/** Goes to the issuer's sign-in page. */
export async function startSignIn(config: OidcConfig): Promise<void> {
  const { authorization_endpoint: authorize } = await discover(config.issuer);
  const verifier = randomText();
  const state = randomText();
  const nonce = randomText();
  const challenge = base64url(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))),
  );
  sessionStorage.setItem(pendingKey, JSON.stringify({ verifier, state, nonce }));
  const url = new URL(authorize);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: config.clientId,
    redirect_uri: redirectUri(),
    scope: config.scopes.join(" "),
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: "S256",
  }).toString();
  window.location.assign(url.toString());
}

/** The claims of a JWT, unverified (the gateway verifies the signature). */
function claimsOf(jwt: string): Record<string, unknown> {
  const payload = jwt.split(".")[1];
  if (payload === undefined) throw new Error("the sign-in service sent no usable ID token");
  const text = atob(payload.replaceAll("-", "+").replaceAll("_", "/"));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(text, (char) => char.charCodeAt(0)))) as Record<
    string,
    unknown
  >;
}

/**
 * After the issuer sent the person back (`?code=…&state=…`, or `?error=…`): the ID token, and the
 * address bar cleaned. Undefined when the page was not opened by a sign-in.
 *
 * @throws Error with what went wrong, for the sign-in screen to show.
 */
export async function finishSignIn(config: OidcConfig): Promise<string | undefined> {
  const query = new URLSearchParams(window.location.search);
  const code = query.get("code");
  const error = query.get("error");
  if (code === null && error === null) return undefined;
  history.replaceState(null, "", `${window.location.pathname}${window.location.hash}`);
  const pendingText = sessionStorage.getItem(pendingKey);
  sessionStorage.removeItem(pendingKey);
  if (error !== null) {
    throw new Error(`sign-in was refused: ${query.get("error_description") ?? error}`);
  }
  if (pendingText === null) throw new Error("this sign-in was not started here; sign in again");
  const pending = JSON.parse(pendingText) as { verifier: string; state: string; nonce: string };
  if (query.get("state") !== pending.state)
    throw new Error("the sign-in answer does not match its request; sign in again");
  const { token_endpoint: tokenEndpoint } = await discover(config.issuer);
  const response = await fetch(tokenEndpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: code ?? "",
      redirect_uri: redirectUri(),
      client_id: config.clientId,
      code_verifier: pending.verifier,
    }),
  });
  const body = (await response.json()) as {
    id_token?: unknown;
    error?: unknown;
    error_description?: unknown;
  };
  if (!response.ok || typeof body.id_token !== "string") {
    const reason =
      typeof body.error_description === "string"
        ? body.error_description
        : typeof body.error === "string"
          ? body.error
          : `HTTP ${response.status}`;
    throw new Error(`the sign-in service refused the code: ${reason}`);
  }
  const claims = claimsOf(body.id_token);
  const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (claims.nonce !== pending.nonce || claims.iss !== config.issuer || !audience.includes(config.clientId)) {
    throw new Error("the ID token is not for this sign-in; sign in again");
  }
  return body.id_token;
}
