/**
 * Loading data from the gateway in a screen: the value, the error the gateway gave (its message says
 * what to do), and a way to load again after an action.
 *
 * @module
 */
import { useCallback, useEffect, useRef, useState } from "react";

export type Load<T> =
  | { readonly state: "loading" }
  | { readonly state: "error"; readonly message: string; readonly code?: string }
  | { readonly state: "ready"; readonly value: T };

/** What the gateway's errors carry: a code and a message. */
export function describeError(error: unknown): { message: string; code?: string } {
  if (typeof error === "object" && error !== null && "message" in error) {
    const { message, code } = error as { message: unknown; code?: unknown };
    return { message: String(message), ...(typeof code === "string" ? { code } : {}) };
  }
  return { message: String(error) };
}

/** Loads `load()` now and whenever `key` changes; `reload` loads again (after an action). */
export function useLoad<T>(load: () => Promise<T>, key: string): [Load<T>, () => void] {
  const [result, setResult] = useState<Load<T>>({ state: "loading" });
  const [generation, setGeneration] = useState(0);
  const latest = useRef(load);
  useEffect(() => {
    latest.current = load;
  });
  useEffect(() => {
    let current = true;
    latest.current().then(
      (value) => {
        if (current) setResult({ state: "ready", value });
      },
      (error: unknown) => {
        if (current) setResult({ state: "error", ...describeError(error) });
      },
    );
    return () => {
      current = false;
    };
  }, [key, generation]);
  const reload = useCallback(() => {
    setGeneration((value) => value + 1);
  }, []);
  return [result, reload];
}
