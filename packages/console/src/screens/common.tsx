/**
 * Pieces the screens share: how a load shows (busy, the gateway's error, empty) and times in the
 * viewer's own time zone.
 *
 * @module
 */
import { useState, type ReactNode } from "react";
import { describeError, type Load } from "../use-load.ts";

/** The value when ready; otherwise a busy line or the gateway's error, said plainly. */
export function Loaded<T>({
  load,
  empty,
  children,
}: {
  readonly load: Load<T>;
  readonly empty?: (value: T) => string | undefined;
  readonly children: (value: T) => ReactNode;
}) {
  if (load.state === "loading") return <p aria-busy="true">Loading…</p>;
  if (load.state === "error") {
    return (
      <p role="alert" className="error">
        {load.message}
        {load.code === undefined ? null : <span className="code"> ({load.code})</span>}
      </p>
    );
  }
  const nothing = empty?.(load.value);
  if (nothing !== undefined) return <p className="empty">{nothing}</p>;
  return <>{children(load.value)}</>;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const timeOfDay = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });

/**
 * A time as the viewer reads it (their time zone), with the exact instant in `dateTime`; `clock`
 * shows the time of day alone (a run's timeline, whose day its header gives).
 */
export function Time({ iso, clock = false }: { readonly iso: string; readonly clock?: boolean }) {
  const date = new Date(iso);
  return (
    <time dateTime={iso} title={dateTime.format(date)}>
      {(clock ? timeOfDay : dateTime).format(date)}
    </time>
  );
}

/** A length of time in words: "40 s", "3 min", "2 h", "5 d". */
export function duration(milliseconds: number): string {
  const seconds = Math.max(0, Math.round(milliseconds / 1000));
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h`;
  return `${Math.floor(seconds / 86_400)} d`;
}

/** How long ago, in words: "3 min", "2 h". */
export function age(iso: string, now: number = Date.now()): string {
  return duration(now - Date.parse(iso));
}

/** A refusal or failure, said where the person acted; nothing when there is none. */
export function Problem({ text }: { readonly text: string | undefined }) {
  if (text === undefined) return null;
  return (
    <p role="alert" className="error">
      {text}
    </p>
  );
}

/**
 * An action on the gateway started from a button: `busy` while it runs (buttons wait), and the
 * gateway's message when it fails. `then` runs after it, whether it worked or not (to read again).
 */
export function useAction(then?: () => void): {
  readonly busy: boolean;
  readonly problem: string | undefined;
  readonly run: (action: () => Promise<unknown>) => Promise<boolean>;
} {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string>();
  const run = async (action: () => Promise<unknown>): Promise<boolean> => {
    setBusy(true);
    setProblem(undefined);
    try {
      await action();
      return true;
    } catch (error) {
      setProblem(describeError(error).message);
      return false;
    } finally {
      setBusy(false);
      then?.();
    }
  };
  return { busy, problem, run };
}

/**
 * A run or item id, short: its first 8 characters, and the part a child run or an item adds to its
 * parent's id (`9ac6a655…-2-0`), so a parent and its children never read alike.
 */
export function shortId(id: string): string {
  const match = /^([0-9a-f]{8})[0-9a-f]{0,24}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}((?:-\d+)+)?$/i.exec(id);
  if (match === null) return id.length <= 12 ? id : `${id.slice(0, 8)}…`;
  return match[2] === undefined ? (match[1] ?? id) : `${match[1] ?? ""}…${match[2]}`;
}
