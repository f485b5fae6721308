/**
 * `freehold`, the command line, as a library: build the program with your own output (tests, embedding).
 *
 * @module
 */
export { crdsCommand, type CrdsOptions } from "./commands/crds.ts";
export { manifestFiles, validateCommand, type ValidationSummary } from "./commands/validate.ts";
export { captureOutput, processOutput, type Output } from "./output.ts";
export { createProgram, type ProgramContext } from "./program.ts";
