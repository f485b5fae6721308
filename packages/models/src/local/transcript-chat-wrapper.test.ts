import { describe, expect, it } from "vitest";
import { createTranscriptChatWrapper } from "./transcript-chat-wrapper.ts";

const module = await import("node-llama-cpp");

function render(result: unknown): string {
  return createTranscriptChatWrapper(module)
    .generateContextState({
      chatHistory: [
        { type: "user", text: "Who leads the platform team?" },
        {
          type: "model",
          response: [{ type: "functionCall", name: "read_text_file", params: { path: "teams.md" }, result }],
        },
      ],
    })
    .contextText.toString();
}

describe("createTranscriptChatWrapper", () => {
  it("writes a text result as its lines after ||result:", () => {
    expect(render("# ACME teams\n\n- Platform team: led by Dana Okafor.\n")).toContain(
      '### User\nWho leads the platform team?\n\n### Assistant\n||call: read_text_file({"path": "teams.md"})\n' +
        "||result:\n# ACME teams\n\n- Platform team: led by Dana Okafor.\n",
    );
  });

  it("writes any other result as JSON, as node-llama-cpp does", () => {
    expect(render({ celsius: 18 })).toContain('||result: {"celsius": 18}\n');
  });
});
