/**
 * A TCP proxy in front of a real redis-server that can lose one reply: armed, it passes the next
 * command on, lets Redis execute it, and cuts the connection instead of passing the reply back.
 * That is what a client sees when Redis shuts down (or the network breaks) between executing a
 * command and answering it; ioredis then reconnects and sends the unanswered command again.
 */
import { createServer, connect, type Server, type Socket } from "node:net";

export interface LostReplyProxy {
  /** `redis://127.0.0.1:<port>` of the proxy. */
  readonly url: string;
  /** The next reply from Redis is dropped and both connections of its client are cut. */
  loseNextReply(): void;
  /** How many replies were lost so far. */
  lost(): number;
  close(): Promise<void>;
}

export async function startLostReplyProxy(target: { readonly port: number }): Promise<LostReplyProxy> {
  let armed = false;
  let lost = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, "127.0.0.1");
    sockets.add(client).add(upstream);
    const cut = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on("data", (chunk) => upstream.write(chunk));
    upstream.on("data", (chunk) => {
      if (armed) {
        armed = false;
        lost += 1;
        cut();
        return;
      }
      client.write(chunk);
    });
    for (const socket of [client, upstream]) {
      socket.on("error", cut);
      socket.on("close", () => {
        sockets.delete(socket);
        cut();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the proxy has no TCP address");
  return {
    url: `redis://127.0.0.1:${address.port}`,
    loseNextReply() {
      armed = true;
    },
    lost: () => lost,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}
