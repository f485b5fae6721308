/**
 * vitest global setup of the `integration` and `cluster` projects: builds the bundled `freehold`
 * (packages/cli/bundle) when its sources changed, so that suites which start workers as the images
 * start them (crash suites, the operator's Deployments run as the kubelet would) run the current
 * code. A second call with nothing changed only compares a fingerprint.
 */
import { buildCli } from "../packages/cli/scripts/build.ts";

export async function setup(): Promise<void> {
  const result = await buildCli();
  if (result.built) {
    process.stderr.write(
      `[build] bundled freehold into ${result.directory} in ${Math.round(result.milliseconds)} ms\n`,
    );
  }
}
