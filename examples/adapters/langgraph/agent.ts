/**
 * A support agent as the team's own LangGraph graph (native mode): the model answers and calls the
 * manifest's MCP tools (`agent` ⇄ `tools`); once it has read the refund policy, the graph asks the
 * billing desk (`desk`: LangGraph's `interrupt()`, an inbox item of the desk's queue in Freehold), and
 * the desk's answer goes back to the model. Freehold supplies the model (the agent's Model resource)
 * and the tools (the manifest's MCP tools); it compiles the graph with the run's checkpointer.
 */
import type { FreeholdGraphPieces } from "@freehold/adapter-langgraph";
import { HumanMessage, type BaseMessage } from "@langchain/core/messages";
import { END, interrupt, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { ToolNode, toolsCondition } from "@langchain/langgraph/prebuilt";

/** Whether the model has read the policy and the desk has not answered yet. */
function needsTheDesk(messages: readonly BaseMessage[]): boolean {
  const readPolicy = messages.some((message) => message.type === "tool" && message.name === "read_text_file");
  const deskAnswered = messages.some(
    (message) => message.type === "human" && message.text.startsWith("The billing desk answered"),
  );
  return readPolicy && !deskAnswered;
}

export default ({ model, tools }: FreeholdGraphPieces) =>
  new StateGraph(MessagesAnnotation)
    .addNode("agent", async (state) => ({ messages: [await model.invoke(state.messages)] }))
    .addNode("tools", new ToolNode(tools))
    .addNode("desk", (state) => {
      const question = state.messages.find((message) => message.type === "human")?.text ?? "";
      const answer = interrupt<Record<string, string>, string>({
        queue: "billing-desk",
        summary: `The customer asks: "${question}". The policy refunds a second charge.`,
        reason: "Every refund is approved by a person on the billing desk.",
        priority: "high",
      });
      return { messages: [new HumanMessage(`The billing desk answered: ${answer}`)] };
    })
    .addEdge(START, "agent")
    .addConditionalEdges("agent", toolsCondition, ["tools", END])
    .addConditionalEdges("tools", (state) => (needsTheDesk(state.messages) ? "desk" : "agent"), [
      "desk",
      "agent",
    ])
    .addEdge("desk", "agent");
