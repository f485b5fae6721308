/**
 * Runs `freehold dev` (the command's function, in this process) until it says it is ready, then
 * stops it as Ctrl-C would, and gives what it printed.
 */
import { vi } from "vitest";
import { devCommand, type DevOptions } from "../src/commands/dev.ts";
import { captureOutput } from "../src/output.ts";

export async function devOnce(options: DevOptions): Promise<{ readonly out: string; readonly err: string }> {
  const output = captureOutput();
  let stop = (): void => undefined;
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const done = devCommand(options, output, stopped);
  await vi.waitFor(
    () => {
      if (!output.out.join("").startsWith("ready.")) throw new Error("freehold dev is not ready yet");
    },
    { timeout: 30_000, interval: 50 },
  );
  stop();
  await done;
  return { out: output.out.join(""), err: output.err.join("") };
}
