/**
 * What a build is made of, and a digest of it: the build scripts (the CLI's bundle, the console, the
 * packages' dist/) keep the digest beside their output and build again only when it changes.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

/**
 * The files under `directory`, relative to `root`: folders named in `skipFolders` left out, and only
 * files `keep` takes (all of them without it).
 */
export function filesUnder(
  root: string,
  directory: string,
  options: { readonly skipFolders: readonly string[]; readonly keep?: (name: string) => boolean },
): string[] {
  const found: string[] = [];
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) {
        if (!options.skipFolders.includes(entry.name)) walk(path);
      } else if (options.keep?.(entry.name) ?? true) {
        found.push(relative(root, path));
      }
    }
  };
  walk(directory);
  return found;
}

/** A digest of files' names and contents (relative to `root`), in code-unit order of their names. */
export function digestFiles(root: string, files: readonly string[]): string {
  const hash = createHash("sha256");
  for (const file of files.toSorted()) {
    hash
      .update(file)
      .update("\0")
      .update(readFileSync(join(root, file)))
      .update("\0");
  }
  return hash.digest("hex");
}
