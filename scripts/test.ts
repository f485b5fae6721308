/**
 * Runs every vitest project and closes with one plain line, `tests: N passed, N failed, N skipped`,
 * so any CI can read the outcome. Extra arguments go to vitest (`pnpm test --project unit`).
 */
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const resultsFile = join(root, ".vitest-results.json");
rmSync(resultsFile, { force: true });

const vitest = spawnSync(
  process.execPath,
  [
    join(root, "node_modules", "vitest", "vitest.mjs"),
    "run",
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${resultsFile}`,
    ...process.argv.slice(2),
  ],
  { cwd: root, stdio: "inherit" },
);

interface Results {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numTotalTests: number;
}

let results: Results | undefined;
try {
  results = JSON.parse(readFileSync(resultsFile, "utf8")) as Results;
} catch {
  results = undefined;
}
if (results === undefined) {
  console.log("tests: 0 passed, 1 failed (vitest wrote no results; see above)");
  process.exitCode = vitest.status === 0 ? 1 : (vitest.status ?? 1);
} else {
  const skipped = results.numPendingTests + results.numTodoTests;
  console.log(
    `tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped`,
  );
  process.exitCode = vitest.status ?? 1;
  if (results.numTotalTests === 0) {
    console.error("no test ran");
    process.exitCode = 1;
  }
}
