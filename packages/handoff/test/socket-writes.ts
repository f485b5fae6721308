/**
 * Counts the writes a socket makes while `work` runs: each `_write` or `_writev` of a Node socket is
 * one system call, whatever `write()` was called with (corked writes leave in one `_writev`).
 */
import type { Socket } from "node:net";

type Writes = Socket & {
  _write: (...args: unknown[]) => void;
  _writev?: (...args: unknown[]) => void;
};

export async function countSocketWrites<T>(
  socket: Socket | undefined,
  work: () => Promise<T>,
): Promise<{ result: T; writes: number }> {
  if (socket === undefined) throw new Error("the connection has no socket to count the writes of");
  const counted = socket as Writes;
  let writes = 0;
  const write = counted._write.bind(counted);
  const writev = counted._writev?.bind(counted);
  counted._write = (...args) => {
    writes += 1;
    write(...args);
  };
  if (writev !== undefined) {
    counted._writev = (...args) => {
      writes += 1;
      writev(...args);
    };
  }
  try {
    return { result: await work(), writes };
  } finally {
    counted._write = write;
    if (writev !== undefined) counted._writev = writev;
  }
}
