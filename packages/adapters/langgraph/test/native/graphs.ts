/**
 * Native LangGraph agents of the adapter's tests (`spec.code` of the test agents, this folder their
 * code root). What their own tools did is kept in {@link probe}, shared with the test through
 * `globalThis` (the worker imports this module on its own).
 */
import type { FreeholdGraphPieces } from "@freehold/adapter-langgraph";
import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import {
  END,
  GraphDrained,
  interrupt,
  MemorySaver,
  MessagesAnnotation,
  START,
  StateGraph,
} from "@langchain/langgraph";
import { ToolNode, toolsCondition } from "@langchain/langgraph/prebuilt";

/** Counts of the code's own tool runs, and what the `gate` tool does when it runs. */
export interface Probe {
  multiply: number;
  gate: number;
  onGate?: () => void;
  /** The next answer of the `stopsInModel` graph's model node is lost with its worker. */
  stopAfterAnswer?: boolean;
}

export const probe: Probe = ((globalThis as Record<symbol, Probe | undefined>)[
  Symbol.for("freehold.langgraph-native-test")
] ??= { multiply: 0, gate: 0 });

const multiply = tool(
  ({ a, b }: { a: number; b: number }) => {
    probe.multiply += 1;
    return String(a * b);
  },
  {
    name: "multiply",
    description: "Multiplies two numbers.",
    schema: {
      type: "object",
      properties: { a: { type: "number" }, b: { type: "number" } },
      required: ["a", "b"],
    },
  },
);

const gate = tool(
  () => {
    probe.gate += 1;
    probe.onGate?.();
    return "open";
  },
  { name: "gate", description: "Opens the gate.", schema: { type: "object", properties: {} } },
);

/** A ReAct graph on Freehold's model: the manifest's tools and the code's own, in one ToolNode. */
function react({ model, tools }: FreeholdGraphPieces) {
  return new StateGraph(MessagesAnnotation)
    .addNode("agent", async (state) => ({ messages: [await model.invoke(state.messages)] }))
    .addNode("tools", new ToolNode([...tools, multiply, gate]))
    .addEdge(START, "agent")
    .addConditionalEdges("agent", toolsCondition, ["tools", END])
    .addEdge("tools", "agent");
}

/**
 * A ReAct graph whose model node can stop after the model answered, before the node ends (as a
 * worker that dies there): the answer is recorded by the run, the super-step is not checkpointed.
 */
export const stopsInModel = ({ model, tools }: FreeholdGraphPieces) =>
  new StateGraph(MessagesAnnotation)
    .addNode("agent", async (state) => {
      const answer = await model.invoke(state.messages);
      if (probe.stopAfterAnswer === true) {
        probe.stopAfterAnswer = false;
        probe.onGate?.();
        throw new GraphDrained("the worker stopped inside the node");
      }
      return { messages: [answer] };
    })
    .addNode("tools", new ToolNode(tools))
    .addEdge(START, "agent")
    .addConditionalEdges("agent", toolsCondition, ["tools", END])
    .addEdge("tools", "agent");

/** Compiled with a checkpointer of its own, which Freehold replaces by the run's. */
export const compiled = (pieces: FreeholdGraphPieces) =>
  react(pieces).compile({ checkpointer: new MemorySaver() });

/** Asks a person first (an interrupt naming no queue), then gives the model the answer. */
export const asks = ({ model }: FreeholdGraphPieces) =>
  new StateGraph(MessagesAnnotation)
    .addNode("ask", () => {
      const answer = interrupt<{ summary: string }, string>({ summary: "May I refund 30?" });
      return { messages: [new HumanMessage(`The desk said: ${answer}`)] };
    })
    .addNode("agent", async (state) => ({ messages: [await model.invoke(state.messages)] }))
    .addEdge(START, "ask")
    .addEdge("ask", "agent")
    .addEdge("agent", END);

/**
 * A compiled graph exported as it is, without Freehold's model: its own node makes the tool call, which
 * its ToolNode runs as plain code (the run's model did not make it); its last message is the output.
 */
export const plain = new StateGraph(MessagesAnnotation)
  .addNode("plan", () => ({
    messages: [
      new AIMessage({ content: "", tool_calls: [{ id: "own_1", name: "multiply", args: { a: 6, b: 7 } }] }),
    ],
  }))
  .addNode("tools", new ToolNode([multiply]))
  .addEdge(START, "plan")
  .addEdge("plan", "tools")
  .addEdge("tools", END)
  .compile();

/** Not a graph. */
export const notAGraph = { answer: 42 };
