/**
 * `freehold`, the command line, as a library: build the program with your own output (tests, embedding).
 *
 * @module
 */
export { crdsCommand, type CrdsOptions } from "./commands/crds.ts";
export { manifestFiles, validateCommand, type ValidationSummary } from "./commands/validate.ts";
export { captureOutput, processOutput, type Output } from "./output.ts";
export { createProgram, demoDirectory, demoRun, type ProgramContext } from "./program.ts";
export { runCommand, type RunOptions } from "./commands/run.ts";
export {
  startDevEnvironment,
  type DevEnvironment,
  type DevEnvironmentOptions,
} from "./dev/dev-environment.ts";
export { loadResources, runtimeConfigs } from "./dev/load-folder.ts";
export { readRuntimeConfig } from "./commands/worker.ts";
export { renderEvent, plainStyle, colourStyle } from "./render-events.ts";
