/**
 * Serves the tools over MCP (streamable HTTP) for agents in a cluster: the process of the billing-tools
 * Deployment, behind a Service of that name. Agents send `Authorization: Bearer <token>` from the
 * Secret billing-tools; this process reads the same token from `TOOLS_TOKEN`.
 *
 *   TOOLS_TOKEN=<token> HOST=0.0.0.0 PORT=8080 node src/serve.ts
 *
 * Without `HOST` it listens on 127.0.0.1 (and `PORT` 0 picks a free port).
 *
 * @module
 */
import { serveTools } from "@freehold/sdk";
import { billingTools } from "./resources.ts";

const server = await serveTools(billingTools.tools, {
  name: billingTools.name,
  host: process.env.HOST ?? "127.0.0.1",
  port: Number(process.env.PORT ?? 8080),
  ...(process.env.TOOLS_TOKEN === undefined ? {} : { token: process.env.TOOLS_TOKEN }),
});
console.log(`serving ${billingTools.tools.map((tool) => tool.name).join(", ")} at ${server.url}`);
const stop = (): void => void server.close();
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
