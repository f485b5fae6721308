/**
 * `@freehold/sdk`: Freehold in TypeScript. Agents, models, human queues and MCP servers defined in
 * code and checked by the same schemas as the CRDs; tools written as functions and served to every
 * agent over MCP.
 *
 * @module
 */
export {
  defineAgent,
  defineHumanQueue,
  defineMCPServer,
  defineModel,
  definitionMark,
  isDefinition,
  type AgentDefinition,
  type AgentDefinitionInput,
  type Definition,
  type DefinitionKind,
  type DefinitionMetadata,
  type HumanQueueDefinition,
  type HumanQueueDefinitionInput,
  type Manifest,
  type McpServerDefinition,
  type McpServerDefinitionInput,
  type ModelDefinition,
  type ModelDefinitionInput,
} from "./definitions.ts";
export { toManifest, toYaml } from "./to-manifest.ts";
export { connectInMemory } from "./connect-in-memory.ts";
export {
  defaultToolServerPort,
  defaultToolWorkingDir,
  defineToolServer,
  type DeployableOptions,
  type ToolServerDefinition,
  type ToolServerDefinitionInput,
} from "./tool-server-definition.ts";
export {
  defineTool,
  type Tool,
  type ToolAnnotations,
  type ToolContext,
  type ToolOptions,
  type ToolResult,
} from "./define-tool.ts";
export {
  minimumToolServerTokenLength,
  serveTools,
  type ServeToolsOptions,
  type ToolServer,
} from "./serve-tools.ts";
export { createToolMcpServer, type ToolServerInfo } from "./tool-mcp-server.ts";
export * from "./client/index.ts";
