/**
 * A human queue kept current in the inbox: the gateway's feed of the queue (`followInbox`).
 *
 * @module
 */
import type { FreeholdClient } from "@freehold/sdk/client";
import { useEffect, useRef, useState } from "react";

type Item = Awaited<ReturnType<FreeholdClient["listInbox"]>>[number];

/**
 * A queue's changes as they happen (the gateway's feed, `followInbox`): the list and the counts are
 * read again shortly after each change (one read for a burst), and the items that arrive are kept
 * apart, newest first, so a new one shows even when it sorts far down a long queue.
 */
export function useLiveQueue(
  client: FreeholdClient,
  namespace: string,
  queue: string,
  reload: () => void,
): { arrivals: Item[]; live: "connecting" | "live" | "lost" } {
  const [arrivals, setArrivals] = useState<Item[]>([]);
  const [live, setLive] = useState<"connecting" | "live" | "lost">("connecting");
  const latestReload = useRef(reload);
  useEffect(() => {
    latestReload.current = reload;
  });
  useEffect(() => {
    setArrivals([]);
    setLive("connecting");
    if (queue === "") return;
    const stop = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const readSoon = (): void => {
      timer ??= setTimeout(() => {
        timer = undefined;
        latestReload.current();
      }, 100);
    };
    const refresh = async (itemId: string): Promise<void> => {
      const item = await client.getInboxItem(namespace, itemId).catch(() => undefined);
      setArrivals((earlier) =>
        earlier.flatMap((known) =>
          known.id !== itemId ? [known] : item === undefined || item.queue !== queue ? [] : [item],
        ),
      );
    };
    void (async () => {
      try {
        for await (const { event } of client.followInbox(namespace, queue, { signal: stop.signal })) {
          setLive("live");
          if (event.type === "reset") {
            if (event.reason === "missed") readSoon();
            continue;
          }
          readSoon();
          if (event.type === "added") {
            const item = await client.getInboxItem(namespace, event.itemId).catch(() => undefined);
            if (item?.queue === queue) {
              setArrivals((earlier) =>
                [item, ...earlier.filter((known) => known.id !== item.id)].slice(0, 5),
              );
            }
          } else if (event.type === "removed" || event.type === "escalated") {
            setArrivals((earlier) => earlier.filter((known) => known.id !== event.itemId));
          } else {
            await refresh(event.itemId);
          }
        }
      } catch {
        if (!stop.signal.aborted) setLive("lost");
      }
    })();
    return () => {
      stop.abort();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [client, namespace, queue]);
  return { arrivals, live };
}
