/**
 * The static token file, for `freehold dev` and tests: one person per line,
 * `token,user,group1|group2` (`#` starts a comment). The file must be readable by its owner only
 * (mode 0600 or stricter); tokens are compared in constant time and never logged.
 *
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { FreeholdError } from "@freehold/api";
import type { Authenticator, Identity } from "./identity.ts";

/** One line of a token file. */
export interface TokenEntry extends Identity {
  readonly token: string;
}

/** Shortest token accepted: a guessable token is refused when the file is read. */
const minimumTokenLength = 16;

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/**
 * Parses the text of a token file; `source` names it in errors (never a token).
 *
 * @example
 * ```ts
 * parseTokenFile("4f9c…e1,ann,billing-desk|acme\n", "tokens.csv"); // [{ token: "4f9c…e1", user: "ann", groups: [...] }]
 * ```
 */
export function parseTokenFile(text: string, source: string): TokenEntry[] {
  const entries: TokenEntry[] = [];
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const [token = "", user = "", groups = "", ...rest] = line.split(",").map((cell) => cell.trim());
    const where = `${source} line ${index + 1}`;
    if (rest.length > 0 || token === "" || user === "") {
      throw new FreeholdError(
        "auth.token-file-invalid",
        `${where} is not token,user[,group1|group2]: fix the line`,
        { details: { source, line: index + 1 } },
      );
    }
    if (token.length < minimumTokenLength) {
      throw new FreeholdError(
        "auth.token-file-invalid",
        `${where}: the token is shorter than ${minimumTokenLength} characters; use a random one (openssl rand -hex 24)`,
        { details: { source, line: index + 1 } },
      );
    }
    entries.push({
      token,
      user,
      groups: groups === "" ? [] : groups.split("|").filter((group) => group !== ""),
    });
  }
  return entries;
}

/**
 * Reads a token file, refusing one that others may read (the tokens are passwords).
 *
 * @example
 * ```ts
 * const entries = readTokenFile("/home/ann/.freehold/dev/tokens.csv");
 * ```
 */
export function readTokenFile(path: string): TokenEntry[] {
  let mode: number;
  let text: string;
  try {
    mode = statSync(path).mode;
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new FreeholdError(
      "auth.token-file-invalid",
      `cannot read the token file ${path}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  if ((mode & 0o077) !== 0) {
    throw new FreeholdError(
      "auth.token-file-invalid",
      `the token file ${path} may be read by others (mode ${(mode & 0o777).toString(8)}): chmod 600 ${path}`,
      { details: { path } },
    );
  }
  return parseTokenFile(text, path);
}

/**
 * Authenticates tokens listed in a token file. Every entry is compared (in constant time, on
 * SHA-256 digests so lengths do not leak) whatever matches first.
 *
 * @example
 * ```ts
 * const authenticator = createTokenFileAuthenticator(readTokenFile(path));
 * await authenticator.authenticate(token); // { user: "ann", groups: ["billing-desk"] }
 * ```
 */
export function createTokenFileAuthenticator(entries: readonly TokenEntry[]): Authenticator {
  const digested = entries.map((entry) => ({
    digest: digest(entry.token),
    identity: { user: entry.user, groups: [...entry.groups] } satisfies Identity,
  }));
  return {
    name: "token-file",
    authenticate(token) {
      const presented = digest(token);
      let found: Identity | undefined;
      for (const entry of digested) {
        if (timingSafeEqual(entry.digest, presented) && found === undefined) found = entry.identity;
      }
      return Promise.resolve(found);
    },
  };
}
