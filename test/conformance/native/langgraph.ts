/**
 * The conformance table's LangGraph agent in native mode: the team's own ReAct graph, built by hand
 * (`agent` → `tools` → `agent` …, `toolsCondition` after the model) from what Freehold supplies: the
 * Model resource as a durable chat model, the manifest's MCP tools and handoffs as LangChain tools.
 * It is returned uncompiled: Freehold compiles it with the run's checkpointer. The scenarios'
 * manifests give it its tools and handoffs.
 */
import type { FreeholdGraphPieces } from "@freehold/adapter-langgraph";
import { END, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { ToolNode, toolsCondition } from "@langchain/langgraph/prebuilt";

export const conformance = ({ model, tools }: FreeholdGraphPieces) =>
  new StateGraph(MessagesAnnotation)
    .addNode("agent", async (state) => ({ messages: [await model.invoke(state.messages)] }))
    .addNode("tools", new ToolNode(tools))
    .addEdge(START, "agent")
    .addConditionalEdges("agent", toolsCondition, ["tools", END])
    .addEdge("tools", "agent");
