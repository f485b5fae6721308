/**
 * The code of the error `freehold run` ends with when it is stopped (Ctrl-C, SIGTERM). Its own
 * module so that the executable, printing an error, can tell this one apart (exit code 130) without
 * loading the run command and what it imports.
 *
 * @module
 */

/** The code of the error a run command ends with when it is stopped before the run ends. */
export const interruptedCode = "cli.interrupted";
