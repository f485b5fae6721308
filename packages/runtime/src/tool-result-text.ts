/**
 * The text a model gets back from an MCP tool call: its text content, a note for each image or
 * resource, or its structured content as JSON when it has no text.
 *
 * @module
 */

interface ContentBlock {
  readonly type: string;
  readonly text?: string;
  readonly mimeType?: string;
  readonly resource?: { readonly uri?: string; readonly text?: string };
  readonly uri?: string;
}

/** A CallToolResult, as far as the text for the model goes. */
export interface ToolResultLike {
  readonly content?: readonly ContentBlock[];
  readonly structuredContent?: unknown;
  readonly isError?: boolean;
}

/**
 * @example
 * ```ts
 * toolResultText({ content: [{ type: "text", text: "3" }] }); // "3"
 * ```
 */
export function toolResultText(result: ToolResultLike): string {
  const parts = (result.content ?? []).map((block) => {
    switch (block.type) {
      case "text":
        return block.text ?? "";
      case "image":
      case "audio":
        return `[${block.type} ${block.mimeType ?? ""}]`.replace(" ]", "]");
      case "resource":
        return block.resource?.text ?? `[resource ${block.resource?.uri ?? ""}]`;
      case "resource_link":
        return `[resource ${block.uri ?? ""}]`;
      default:
        return `[${block.type}]`;
    }
  });
  const text = parts.filter((part) => part !== "").join("\n");
  if (text !== "") return text;
  return result.structuredContent === undefined ? "" : JSON.stringify(result.structuredContent);
}
