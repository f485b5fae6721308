/**
 * Tools in the same process, over the MCP SDK's in-memory transport: for `freehold dev` and tests,
 * the same MCP a served tool speaks, with no port.
 *
 * @module
 */
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { Tool } from "./define-tool.ts";
import { checkTools, createToolMcpServer, type ToolServerInfo } from "./tool-mcp-server.ts";

/**
 * Starts an MCP server of the tools on one end of an in-memory pair and returns the other end, for
 * an MCP client. Closing the client (or the transport) closes the server.
 *
 * @throws FreeholdError `tool.invalid` for no tools or two of one name.
 * @example
 * ```ts
 * const client = new Client({ name: "test", version: "1.0.0" });
 * await client.connect(await connectInMemory([getInvoice]));
 * await client.callTool({ name: "get_invoice", arguments: { number: "INV-7" } });
 * await client.close();
 * ```
 */
export async function connectInMemory(tools: readonly Tool[], info: ToolServerInfo = {}): Promise<Transport> {
  checkTools(tools);
  const [clientEnd, serverEnd] = InMemoryTransport.createLinkedPair();
  await createToolMcpServer(tools, info).connect(serverEnd);
  return clientEnd;
}
