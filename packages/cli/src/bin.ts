#!/usr/bin/env node
/**
 * The `freehold` executable: runs the program with the process's arguments and turns errors into
 * one clear line and an exit code (never a stack trace for a user's mistake).
 *
 * Node's compile cache goes on first (NODE_COMPILE_CACHE, else a folder in the temporary directory;
 * NODE_DISABLE_COMPILE_CACHE=1 turns it off): the modules imported after it are stripped of their
 * types and compiled once, not on every start. The runtime image ships the cache warmed (see
 * images/runtime.Dockerfile), so a worker starts without loading the type stripper at all.
 *
 * What it does with the arguments is main.ts's, shared with the worker's startup snapshot.
 */
import { enableCompileCache } from "node:module";

enableCompileCache();
await import("@freehold/api/interpreted-parsing");
const { runMain } = await import("./main.ts");
const { createProgram } = await import("./program.ts");
await runMain(createProgram, process.argv.slice(2));
