/**
 * `freehold dev`'s local credentials: a token file (`token,user,group1|group2` lines) and a policy
 * file that makes the person running it admin of the namespaces it serves, in one folder
 * (`--data-dir`, else `~/.freehold/dev`), both mode 0600. Existing files are kept: people added by
 * hand (ann on the billing desk) stay, and only missing admin bindings are added. The CLI's gateway
 * commands read the person's token from `FREEHOLD_TOKEN` or from the folder's `token` file.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parsePolicy, parseTokenFile, type Policy } from "@freehold/gateway";
import { stringify } from "yaml";

/** The files of the dev credentials. */
export interface DevAuthFiles {
  readonly directory: string;
  /** `token,user,groups` lines: `freehold gateway --token-file`. */
  readonly tokenFile: string;
  /** Bindings to the tenant roles: `freehold gateway --policy-file`. */
  readonly policyFile: string;
  /** The token of the person running `freehold dev` alone, read by the CLI. */
  readonly ownTokenFile: string;
}

/** What {@link writeDevAuth} made or found. */
export interface DevAuth extends DevAuthFiles {
  readonly user: string;
  readonly token: string;
}

/**
 * Where the dev credentials live: `FREEHOLD_DEV_DIR`, else `~/.freehold/dev`.
 *
 * @example
 * ```ts
 * devAuthFiles(process.env).tokenFile; // "/home/ann/.freehold/dev/tokens.csv"
 * ```
 */
export function devAuthFiles(
  environment: Readonly<Record<string, string | undefined>>,
  directory?: string,
): DevAuthFiles {
  const folder =
    directory ?? environment.FREEHOLD_DEV_DIR ?? join(environment.HOME ?? homedir(), ".freehold", "dev");
  return {
    directory: folder,
    tokenFile: join(folder, "tokens.csv"),
    policyFile: join(folder, "policy.yaml"),
    ownTokenFile: join(folder, "token"),
  };
}

function writePrivate(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/**
 * Makes (or completes) the dev credentials: `user` gets a token and is admin of `namespaces`.
 *
 * @example
 * ```ts
 * const auth = writeDevAuth(devAuthFiles(process.env), "ann", ["default"]);
 * console.log(`export FREEHOLD_TOKEN=${auth.token}`);
 * ```
 */
export function writeDevAuth(files: DevAuthFiles, user: string, namespaces: readonly string[]): DevAuth {
  mkdirSync(files.directory, { recursive: true, mode: 0o700 });
  const lines = existsSync(files.tokenFile) ? readFileSync(files.tokenFile, "utf8") : "";
  const entries = parseTokenFile(lines, files.tokenFile);
  let token = entries.find((entry) => entry.user === user)?.token;
  if (token === undefined) {
    token = randomBytes(24).toString("hex");
    const header =
      lines === "" ? "# token,user,group1|group2 — one person per line; keep this file mode 0600\n" : "";
    const separator = lines === "" || lines.endsWith("\n") ? "" : "\n";
    writePrivate(files.tokenFile, `${header}${lines}${separator}${token},${user},\n`);
  } else {
    chmodSync(files.tokenFile, 0o600);
  }
  writePrivate(files.ownTokenFile, `${token}\n`);

  const policy: Policy = existsSync(files.policyFile)
    ? parsePolicy(readFileSync(files.policyFile, "utf8"), files.policyFile)
    : { bindings: [] };
  const missing = namespaces.filter(
    (namespace) =>
      !policy.bindings.some(
        (binding) =>
          binding.role === "admin" &&
          (binding.namespace === namespace || binding.namespace === "*") &&
          binding.subjects.some((subject) => subject.user === user),
      ),
  );
  if (missing.length > 0 || !existsSync(files.policyFile)) {
    const bindings = [
      ...policy.bindings,
      ...missing.map((namespace) => ({ namespace, role: "admin" as const, subjects: [{ user }] })),
    ];
    writePrivate(
      files.policyFile,
      "# Who may do what on the dev gateway: role admin or member (the chart's freehold-tenant-admin and\n" +
        '# -member ClusterRoles) per namespace ("*": all), for users or groups of the token file.\n' +
        stringify({ bindings }),
    );
  }
  return { ...files, user, token };
}

/**
 * The token the CLI sends: `FREEHOLD_TOKEN`, else the dev token file; `undefined` when neither.
 *
 * @example
 * ```ts
 * createClient({ url, token: readClientToken(process.env) });
 * ```
 */
export function readClientToken(
  environment: Readonly<Record<string, string | undefined>>,
  tokenFile?: string,
): string | undefined {
  const fromEnvironment = environment.FREEHOLD_TOKEN?.trim();
  if (fromEnvironment !== undefined && fromEnvironment !== "") return fromEnvironment;
  const path = tokenFile ?? devAuthFiles(environment).ownTokenFile;
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, "utf8").trim();
  return text === "" ? undefined : text;
}
