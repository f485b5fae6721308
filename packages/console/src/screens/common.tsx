/**
 * Pieces the screens share: how a load shows (busy, the gateway's error, empty) and times in the
 * viewer's own time zone.
 *
 * @module
 */
import type { ReactNode } from "react";
import type { Load } from "../use-load.ts";

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

/** How long ago, in words: "3 min", "2 h". */
export function age(iso: string, now: number = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h`;
  return `${Math.floor(seconds / 86_400)} d`;
}
