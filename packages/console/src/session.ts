/**
 * Who is signed in: a bearer token kept in this tab's session storage. `freehold dev` opens the
 * console with the local token in the URL's fragment (`/#token=…`), which never reaches a server;
 * it is moved to session storage and removed from the address bar at once. A person can also paste
 * a token. Signing out forgets it.
 *
 * @module
 */

const tokenKey = "freehold.token";
const namespaceKey = "freehold.namespace";

/** Takes a token from the URL's fragment, if one is there, and clears the fragment of it. */
export function adoptTokenFromLocation(): void {
  const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (match?.[1] === undefined) return;
  sessionStorage.setItem(tokenKey, decodeURIComponent(match[1]));
  const rest = window.location.hash.replace(/(^#|&)token=[^&]+/, "$1").replace(/^#&/, "#");
  history.replaceState(
    null,
    "",
    `${window.location.pathname}${window.location.search}${rest === "#" ? "" : rest}`,
  );
}

export function currentToken(): string | undefined {
  return sessionStorage.getItem(tokenKey) ?? undefined;
}

export function signIn(token: string): void {
  sessionStorage.setItem(tokenKey, token);
}

export function signOut(): void {
  sessionStorage.removeItem(tokenKey);
}

/** The namespace the person works in, remembered on this browser. */
export function savedNamespace(): string {
  return localStorage.getItem(namespaceKey) ?? "default";
}

export function saveNamespace(namespace: string): void {
  localStorage.setItem(namespaceKey, namespace);
}

const queueKey = "freehold.queue";

/** The human queue the person last worked. */
export function savedQueue(): string {
  return localStorage.getItem(queueKey) ?? "";
}

export function saveQueue(queue: string): void {
  localStorage.setItem(queueKey, queue);
}
