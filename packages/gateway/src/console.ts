/**
 * The web console, served at `/` from its built files (`packages/console/dist`: `index.html` and
 * hashed `assets/`). The page is public, as any sign-in page is; everything it shows comes from the
 * API with the person's own token, so the gateway's authorization decides what they see.
 *
 * The files are read once, at start, into memory: a request can only name one of them (no path
 * reaches the file system), and a missing or half-built folder fails the start, not a request.
 * The page is sent with a strict Content-Security-Policy (scripts, styles and requests only from
 * the gateway itself, no inline code, no framing), `nosniff`, and no referrer; assets, whose
 * names change with their content, are cached for a year, the page never. `/console-config.json`
 * tells the page how people sign in (the OIDC issuer and client, or a pasted token).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import { FreeholdError } from "@freehold/api";
import type { MiddlewareHandler } from "hono";

/** Where the console's built files are, and how people sign in. */
export interface ConsoleOptions {
  /** The folder with `index.html` and `assets/` (`node packages/console/scripts/build.ts` writes it). */
  readonly directory: string;
  /**
   * Sign-in with the OIDC issuer the gateway trusts: the authorization code flow with PKCE, as a
   * public client of that id (no secret). The console sends the ID token, whose `aud` is `clientId`:
   * the gateway's OIDC audiences must include it. Absent: people paste a token.
   */
  readonly oidc?: ConsoleOidc;
}

/** The console's OIDC client. */
export interface ConsoleOidc {
  /** The issuer, as the gateway's OIDC authenticator has it. */
  readonly issuer: string;
  /** The console's client id at the issuer; its redirect URI is the gateway's `/`. */
  readonly clientId: string;
  /** Scopes asked for besides `openid` (e.g. `groups`, `profile`). */
  readonly scopes?: readonly string[];
}

/** What the page reads at start (`/console-config.json`): how to sign in. */
export interface ConsoleConfig {
  readonly oidc?: { readonly issuer: string; readonly clientId: string; readonly scopes: readonly string[] };
}

interface Asset {
  readonly body: Uint8Array<ArrayBuffer>;
  readonly headers: Readonly<Record<string, string>>;
}

const contentTypes: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

/**
 * The policy of the page: everything from the gateway itself, nothing inline, no framing; requests
 * also to the OIDC issuer's origin when people sign in there (its discovery document and token
 * endpoint).
 */
export function consoleContentSecurityPolicy(oidcIssuer?: string): string {
  const connect = oidcIssuer === undefined ? "'self'" : `'self' ${new URL(oidcIssuer).origin}`;
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${connect}`,
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

const commonHeaders = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/**
 * Reads the console's files.
 *
 * @throws FreeholdError `gateway.console-missing` when the folder has no `index.html`.
 */
export function readConsole(options: ConsoleOptions): ReadonlyMap<string, Asset> {
  const index = join(options.directory, "index.html");
  if (!existsSync(index)) {
    throw new FreeholdError(
      "gateway.console-missing",
      `the console is not built: ${index} does not exist; build it (node packages/console/scripts/build.ts, part of the setup) or start the gateway without the console (--no-console)`,
      { details: { directory: options.directory } },
    );
  }
  const assets = new Map<string, Asset>();
  for (const entry of readdirSync(options.directory, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name.startsWith(".")) continue;
    const file = join(entry.parentPath, entry.name);
    const path = `/${relative(options.directory, file).split(sep).join("/")}`;
    const body = new Uint8Array(readFileSync(file));
    const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
    const page = path === "/index.html";
    assets.set(path, {
      body,
      headers: {
        ...commonHeaders,
        "content-type": contentTypes[extname(file)] ?? "application/octet-stream",
        etag,
        "cache-control": page ? "no-cache" : "public, max-age=31536000, immutable",
        ...(page
          ? {
              "content-security-policy": consoleContentSecurityPolicy(options.oidc?.issuer),
              "x-frame-options": "DENY",
            }
          : {}),
      },
    });
  }
  const page = assets.get("/index.html");
  if (page !== undefined) assets.set("/", page);
  const config: ConsoleConfig =
    options.oidc === undefined
      ? {}
      : {
          oidc: {
            issuer: options.oidc.issuer,
            clientId: options.oidc.clientId,
            scopes: ["openid", ...(options.oidc.scopes ?? []).filter((scope) => scope !== "openid")],
          },
        };
  assets.set("/console-config.json", {
    body: new TextEncoder().encode(JSON.stringify(config)),
    headers: { ...commonHeaders, "content-type": contentTypes[".json"] ?? "", "cache-control": "no-cache" },
  });
  return assets;
}

/**
 * Serves the console's files to GET and HEAD; every other request goes on to the API.
 *
 * @example
 * ```ts
 * app.use(consoleFiles(readConsole({ directory: "packages/console/dist" })));
 * ```
 */
export function consoleFiles(assets: ReadonlyMap<string, Asset>): MiddlewareHandler {
  return async (context, next) => {
    const method = context.req.method;
    if (method !== "GET" && method !== "HEAD") return next();
    const asset = assets.get(new URL(context.req.url).pathname);
    if (asset === undefined) return next();
    const etag = asset.headers.etag;
    if (etag !== undefined && context.req.header("if-none-match") === etag) {
      return new Response(null, { status: 304, headers: asset.headers });
    }
    return new Response(method === "HEAD" ? null : asset.body, { status: 200, headers: asset.headers });
  };
}
