/**
 * How this process's zod parses. By default zod compiles a parser for each object schema the first
 * time it is used (`new Function`); for this package's schemas (unions, records, refinements) the
 * compiled parsers start slower and ran no faster in our measurements (one quiet run: a RuntimeConfig's
 * first parse 9 ms compiled against 4 ms interpreted, a run's state about 110 against 60 µs; runs on a
 * loaded machine were too noisy to tell). Processes that own their zod (the `freehold` command, the operator) call this once at
 * start; a library never does it for its host.
 *
 * @module
 */
import { z } from "zod";

/** Makes this process's zod parse without compiling parsers (`z.config({ jitless: true })`). */
export function useInterpretedParsing(): void {
  z.config({ jitless: true });
}
