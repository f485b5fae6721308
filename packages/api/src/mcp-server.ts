/**
 * `MCPServer`: a Model Context Protocol server the agents of a namespace can call: reached over
 * streamable HTTP or SSE, or a stdio command that the operator runs behind the stdio → HTTP bridge.
 *
 * @module
 */
import { z } from "zod";
import { statusBase } from "./conditions.ts";
import { SecretKeySelector, ToolName } from "./names.ts";
import { defineResource } from "./resource.ts";
import { withRules } from "./validation-rule.ts";

const headerNamePattern = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** An HTTP header sent with every request: a literal value or a Secret key. */
export const Header = withRules(
  z
    .strictObject({
      name: z
        .string()
        .min(1)
        .max(256)
        .regex(headerNamePattern, "must be a valid HTTP header name")
        .describe("The header's name, e.g. Authorization."),
      value: z.string().max(8192).optional().describe("A literal value. Use secretKeyRef for credentials."),
      secretKeyRef: SecretKeySelector.optional().describe("Take the value from a Secret key."),
    })
    .describe("A header: exactly one of value or secretKeyRef."),
  [
    {
      rule: "[has(self.value), has(self.secretKeyRef)].exists_one(set, set)",
      message: "a header needs exactly one of value or secretKeyRef",
      check: (header) => (header.value === undefined) !== (header.secretKeyRef === undefined),
    },
  ],
);

const HttpTransport = z
  .strictObject({
    url: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .regex(/^https?:\/\//, "must be an http:// or https:// URL")
      .describe("The server's endpoint, e.g. http://billing-mcp:8080/mcp."),
    headers: z.array(Header).max(32).optional().describe("Headers sent with every request."),
  })
  .describe("A remote server.");

/** A stdio server: a command run in a container behind the stdio → streamable HTTP bridge. */
export const StdioTransport = withRules(
  z
    .strictObject({
      command: z.string().min(1).max(1024).describe("The program to run, e.g. npx or /usr/local/bin/server."),
      args: z.array(z.string().max(4096)).max(64).optional().describe("Its arguments."),
      env: z
        .array(Header.meta({ description: "An environment variable of the command." }))
        .max(64)
        .optional()
        .describe("Environment variables of the command; only these are passed, nothing is inherited."),
      image: z
        .string()
        .max(512)
        .optional()
        .describe(
          "The container image that has the command; default: the operator's runtime image (Node 24).",
        ),
      workingDir: z.string().max(4096).optional().describe("The command's working directory."),
    })
    .describe("A local server, spoken to over stdin and stdout."),
  [
    {
      rule: "!has(self.env) || self.env.all(e, self.env.exists_one(o, o.name == e.name))",
      message: "environment variable names must be unique",
      fieldPath: ".env",
      check: (stdio) => new Set(stdio.env?.map((env) => env.name)).size === (stdio.env?.length ?? 0),
    },
  ],
);

export const McpServerSpec = withRules(
  z
    .strictObject({
      description: z.string().max(1024).optional().describe("What the server offers, for people."),
      http: HttpTransport.optional().describe("Streamable HTTP transport (MCP 2025-03-26 and later)."),
      sse: HttpTransport.optional().describe("Legacy HTTP+SSE transport (MCP 2024-11-05)."),
      stdio: StdioTransport.optional(),
      timeoutSeconds: z.int().min(1).max(3600).default(60).describe("Default timeout of one tool call."),
    })
    .describe("The desired state of an MCPServer: exactly one transport (http, sse or stdio)."),
  [
    {
      rule: "[has(self.http), has(self.sse), has(self.stdio)].exists_one(set, set)",
      message: "an MCPServer needs exactly one transport: http, sse or stdio",
      check: (spec) =>
        [spec.http, spec.sse, spec.stdio].filter((transport) => transport !== undefined).length === 1,
    },
  ],
);
export type McpServerSpec = z.infer<typeof McpServerSpec>;

export const McpServerStatus = z
  .strictObject({
    ...statusBase,
    url: z.string().optional().describe("The URL agents use: the http or sse url, or the bridge's Service."),
    tools: z
      .array(
        z.strictObject({
          name: ToolName,
          description: z.string().optional().describe("The tool's description, as the server lists it."),
        }),
      )
      .optional()
      .describe("The tools the server listed when the operator last connected."),
  })
  .describe("The observed state of an MCPServer.");

export const McpServer = defineResource({
  kind: "MCPServer",
  plural: "mcpservers",
  shortNames: ["mcp"],
  scope: "Namespaced",
  description: "An MCP server: remote (streamable HTTP or SSE) or a stdio command run behind a bridge.",
  spec: McpServerSpec,
  status: McpServerStatus,
  printerColumns: [
    { name: "URL", type: "string", jsonPath: ".status.url" },
    { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ],
  nameRule: "service",
});
export type McpServer = z.infer<typeof McpServer.schema>;
