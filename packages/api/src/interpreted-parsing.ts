/**
 * `import "@freehold/api/interpreted-parsing"`, first: this process's zod parses without compiling
 * parsers. By default zod compiles a parser for each object schema the first time it is used (`new
 * Function`). For this package's schemas (unions, records, refinements), measured: compiled parsers
 * start slower (first parse, medians of 9 fresh processes: a RuntimeConfig 0.92 ms against 0.55
 * interpreted, a run's state of 41 messages 3.5 ms against 1.2) and, once warm, validate faster (that
 * state's zod part 11-14 µs against 29-32, over 5,000 parses). End to end neither showed: a worker
 * started from a snapshot whose build warmed compiled parsers (278 KB more of it) reached its first
 * model call in 104.9 ms against 104.1 (medians of 21, alternated), and bench:handoff-throughput's
 * ratios moved less than from one of its repeats to the next. Interpreted keeps the snapshot smaller
 * and first parses, all that a short command makes, cheaper.
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
