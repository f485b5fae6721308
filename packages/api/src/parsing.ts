/**
 * How this process's zod parses. By default zod compiles a parser for each object schema the first
 * time it is used (`new Function`); for this package's schemas (unions, records, refinements) the
 * compiled parsers start slower and run no faster: the first parse of a RuntimeConfig takes about 9 ms
 * compiled against 4 ms interpreted, and a run's state parses in about 60 µs interpreted against 110
 * µs compiled. Processes that own their zod (the `freehold` command, the operator) call this once at
 * start; a library never does it for its host.
 *
 * @module
 */
import { z } from "zod";

/** Makes this process's zod parse without compiling parsers (`z.config({ jitless: true })`). */
export function useInterpretedParsing(): void {
  z.config({ jitless: true });
}
