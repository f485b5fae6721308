/**
 * `@freehold/operator`: the Kubernetes operator of Freehold. Pure translations of each kind into
 * the objects and conditions it becomes, and the controller that applies them.
 *
 * @module
 */
export {
  agentConfigMap,
  agentDeployment,
  agentEnvironment,
  agentService,
  agentServiceAccount,
  agentWorkloadName,
  configDirectory,
  configFile,
} from "./agent-workload.ts";
export {
  agentHorizontalPodAutoscaler,
  agentScaledObject,
  agentWaitList,
  queueDepthMetric,
} from "./autoscaling.ts";
export { bridgeName, bridgePort, bridgeUrl } from "./bridge-address.ts";
export {
  clusterViewFromObjects,
  parseStored,
  type ClusterView,
  type SecretData,
  type StoredKinds,
} from "./cluster-view.ts";
export {
  conditionTransitions,
  mergeConditions,
  type ConditionDraft,
  type ConditionTransition,
} from "./conditions.ts";
export {
  humanQueueStatus,
  readHumanQueueStats,
  type HumanQueueStats,
  type HumanQueueStatusDraft,
} from "./human-queue-status.ts";
export type {
  ConfigMap,
  Deployment,
  KubernetesObject,
  ObjectMeta,
  Service,
  ServiceAccount,
  SpecObject,
} from "./kubernetes-objects.ts";
export {
  agentFinalizer,
  annotationKeys,
  childName,
  fieldManager,
  labelKeys,
  managedSelector,
  objectKey,
  splitObjectKey,
} from "./names.ts";
export { renderRuntimeConfig, type RenderedRuntimeConfig } from "./render-runtime-config.ts";
export { resolveAgent, type AgentResolution, type Problem } from "./resolve-agent.ts";
export { agentReadyCondition, translateAgent, type AgentTranslation } from "./translate-agent.ts";
export {
  mcpServerReadyCondition,
  translateMcpServer,
  type McpServerTranslation,
  type ToolDiscovery,
} from "./translate-mcp-server.ts";
export { translateModel } from "./translate-model.ts";
export type { TranslateOptions } from "./translate-options.ts";
