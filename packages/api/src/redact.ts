/**
 * Secrets out of what is printed: the `user:password@` of every URL in a text (Redis URLs above
 * all) becomes `***@` before the text reaches a log line, an error message or a terminal. The one
 * redaction function of Freehold: the gateway's log, the CLI's standard error and the worker's log
 * all go through it.
 *
 * @module
 */

// A URL's user and password run from `://` to `@`. `"`, `<` and `>` are always percent-encoded in
// them, so they end a URL quoted in JSON or HTML; `'` is not (a password may hold one), so it does
// not end them: a single-quoted URL without credentials may lose a little more text, never a secret.
const credentials = /([a-z][a-z0-9+.-]*:\/\/)[^\s/@"<>]*@/gi;

/**
 * The text with the credentials of every URL in it replaced by `***`.
 *
 * @example
 * ```ts
 * redactUrls("cannot reach Redis at redis://freehold-tenant-acme:s3cret@redis:6379");
 * // "cannot reach Redis at redis://***@redis:6379"
 * ```
 */
export function redactUrls(text: string): string {
  // Most lines hold no URL (a worker logs one per run it takes up): no scan of those.
  return text.includes("://") ? text.replace(credentials, "$1***@") : text;
}
