/**
 * A native agent whose own tool writes to a ledger file outside the worker's process (the file named
 * by FREEHOLD_TEST_LEDGER, which the test sets for the workers it starts), a line when a call starts
 * and one when it ends, under the call's idempotency key: native-crash.test.ts counts them across
 * workers it kills.
 */
import { appendFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { jsonSchema, tool, ToolLoopAgent, type LanguageModel, type ToolSet } from "ai";

const ledger = process.env["FREEHOLD_TEST_LEDGER"];

export const ledgerAgent = ({ model, tools }: { model: LanguageModel; tools: ToolSet }) =>
  new ToolLoopAgent({
    model,
    tools: {
      ...tools,
      record: tool({
        description: "Records a value in the ledger.",
        inputSchema: jsonSchema<{ value: number }>({
          type: "object",
          properties: { value: { type: "number" } },
          required: ["value"],
        }),
        async execute({ value }, { toolCallId }) {
          if (ledger === undefined) throw new Error("FREEHOLD_TEST_LEDGER is not set");
          appendFileSync(ledger, `start ${toolCallId}\n`);
          await sleep(400);
          appendFileSync(ledger, `end ${toolCallId}\n`);
          return `recorded ${value}`;
        },
      }),
    },
  });
