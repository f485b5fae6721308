import { describe, expect, it } from "vitest";
import {
  candidatePrefix,
  firstSentence,
  instructionsAbout,
  namesTool,
  noToolDescription,
} from "./tool-candidates.ts";

const readTextFile = {
  name: "read_text_file",
  description:
    "Read the complete contents of a file from the file system as text. Handles various text encodings " +
    "and provides detailed error messages if the file cannot be read.",
  inputSchema: { type: "object" },
};

describe("firstSentence", () => {
  it("keeps the first sentence of a long description, with whitespace collapsed", () => {
    expect(firstSentence(readTextFile.description)).toBe(
      "Read the complete contents of a file from the file system as text.",
    );
    expect(firstSentence("  Get the\n weather.  ")).toBe("Get the weather.");
  });

  it("takes the next sentence along when the first is too short to say anything", () => {
    expect(firstSentence("E.g. Paris. Gets the weather for a city. More.")).toBe(
      "E.g. Paris. Gets the weather for a city.",
    );
  });

  it("cuts a description without sentence ends at 300 characters", () => {
    expect(firstSentence("a".repeat(400))).toHaveLength(300);
    expect(firstSentence("")).toBe("");
  });
});

describe("namesTool", () => {
  it("matches the tool's name as a whole word only", () => {
    expect(namesTool('First call read_text_file with path "teams.md".', "read_text_file")).toBe(true);
    expect(namesTool("Use read_text_files.", "read_text_file")).toBe(false);
    expect(namesTool("Use my-read_text_file.", "read_text_file")).toBe(false);
    expect(namesTool("Call get.weather now.", "get.weather")).toBe(true);
    expect(namesTool("Call getXweather now.", "get.weather")).toBe(false);
  });
});

describe("instructionsAbout", () => {
  const instructions =
    "You answer questions about ACME's teams. The facts are in the file teams.md.\n" +
    'First call read_text_file with path "teams.md". Then answer in one short sentence.';

  it("is undefined when the instructions do not name the tool", () => {
    expect(instructionsAbout(instructions, "send_email")).toBeUndefined();
  });

  it("keeps short instructions whole", () => {
    expect(instructionsAbout(instructions, "read_text_file")).toBe(instructions.replace("\n", " "));
  });

  it("keeps the sentences naming the tool and, as room allows, the opening ones, in order", () => {
    const filler = Array.from({ length: 12 }, (_, index) => `Rule ${String(index)} is about something else.`);
    const long = ["You help ACME's staff.", ...filler, "Use send_email to send mail."].join(" ");
    const about = instructionsAbout(long, "send_email") ?? "";
    expect(about.length).toBeLessThanOrEqual(400);
    expect(about.startsWith("You help ACME's staff. Rule 0")).toBe(true);
    expect(about.endsWith("Use send_email to send mail.")).toBe(true);
    expect(about).not.toContain("Rule 11");
  });
});

describe("candidatePrefix", () => {
  it("describes a tool by the first sentence of its description", () => {
    expect(candidatePrefix(readTextFile, undefined)).toBe(
      "Tool: read_text_file - Read the complete contents of a file from the file system as text.\n" +
        "A user request that this tool handles: ",
    );
  });

  it("adds the agent's instructions to the tool they name, and only to it", () => {
    const instructions = "You answer questions about ACME's teams. First call read_text_file.";
    expect(candidatePrefix(readTextFile, instructions)).toContain(
      "\nThe agent's instructions: You answer questions about ACME's teams. First call read_text_file.\n",
    );
    const other = { name: "send_email", description: "Send an email.", inputSchema: {} };
    expect(candidatePrefix(other, instructions)).toBe(candidatePrefix(other, undefined));
    expect(candidatePrefix(undefined, instructions)).toBe(
      `Tool: none - ${noToolDescription}\nA user request that this tool handles: `,
    );
  });

  it("falls back to the tool's name without a description", () => {
    expect(candidatePrefix({ name: "ping", inputSchema: {} }, undefined)).toContain("Tool: ping - ping\n");
  });
});
