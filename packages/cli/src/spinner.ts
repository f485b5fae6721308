/**
 * A spinner on standard error while a run waits for its next event, only on a terminal.
 *
 * @module
 */
import type { Output } from "./output.ts";

export interface Spinner {
  /** Shows the spinner with a label until `clear()`. */
  start(label: string): void;
  /** Removes the spinner line, so the next output starts clean. */
  clear(): void;
}

const frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export function createSpinner(output: Output): Spinner {
  let timer: NodeJS.Timeout | undefined;
  let started = 0;
  return {
    start(label) {
      if (!output.interactive || timer !== undefined) return;
      started = Date.now();
      let frame = 0;
      timer = setInterval(() => {
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        output.stderr(`\r${frames[frame % frames.length] ?? ""} ${label} ${seconds}s`);
        frame += 1;
      }, 100);
      timer.unref();
    },
    clear() {
      if (timer === undefined) return;
      clearInterval(timer);
      timer = undefined;
      output.stderr("\r\u001b[2K");
    },
  };
}
