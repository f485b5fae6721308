/**
 * `import "@freehold/api/interpreted-parsing"`, first: this process's zod parses without compiling
 * parsers. By default zod compiles a parser for each object schema the first time it is used (`new
 * Function`); for this package's schemas (unions, records, refinements) the compiled parsers start
 * slower and ran no faster in our measurements (one quiet run: a RuntimeConfig's first parse 9 ms
 * compiled against 4 ms interpreted, a run's state about 110 against 60 µs; runs on a loaded machine
 * were too noisy to tell).
 *
 * zod reads the setting when it builds an object schema, not when it parses: it must come before
 * any module that builds schemas (this package's index does, as it loads), so it is a module of its
 * own, imported before them. Processes that own their zod (the `freehold` command and the worker's
 * startup snapshot, the operator, the benchmarks) import it; a library never does it for its host.
 *
 * @module
 */
import { z } from "zod";

z.config({ jitless: true });
