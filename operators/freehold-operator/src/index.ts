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
  redisUrlReference,
} from "./agent-workload.ts";
export {
  agentHorizontalPodAutoscaler,
  agentScaledObject,
  agentTriggerAuthentication,
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
  LimitRange,
  Namespace,
  NetworkPolicy,
  ObjectMeta,
  ResourceQuota,
  RoleBinding,
  Secret,
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
  redisSecretName,
  splitObjectKey,
  tenantClusterRoles,
  tenantCredentialSecretName,
  tenantFinalizer,
  tenantObjectNames,
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
export {
  defaultRequests,
  tenantLabels,
  tenantReadyCondition,
  translateTenant,
  type TenantNamespaceObjects,
  type TenantTranslateOptions,
  type TenantTranslation,
} from "./translate-tenant.ts";
export { tenantNetworkPolicy, type TenantNetworkPolicyInput } from "./tenant-network-policy.ts";
export {
  namespaceState,
  tenantViewFromObjects,
  type NamespaceState,
  type TenantView,
} from "./tenant-view.ts";
export {
  egressRuleForUrl,
  internetPeers,
  mergeEgressRules,
  namespacePeer,
  nonPublicIpv4,
  nonPublicIpv6,
  type EgressRule,
} from "./network-egress.ts";
export { divideQuantity, formatBytes, formatMillicores, parseQuantity, type Quantity } from "./quantity.ts";
export {
  namespaceService,
  parseConfiguredNamespaces,
  servedSecretNamespaces,
  type ConfiguredNamespaces,
  type NamespaceService,
  type ServingState,
  type ServingTenant,
} from "./served-namespaces.ts";
export { agentQuotaStanding, quotaOrder, type AgentQuotaStanding, type QuotaAgent } from "./agent-quota.ts";
export {
  credentialOfUrl,
  redactUrls,
  redisCredential,
  redisEndpoint,
  redisEndpoints,
  type RedisCredential,
} from "./redis-url.ts";
export { redisSecret } from "./redis-secret.ts";
export type { TranslateOptions } from "./translate-options.ts";
export { createOperator, type Operator, type OperatorOptions } from "./operator.ts";
export { startHealthServer, type HealthServer, type HealthServerOptions } from "./health-server.ts";
export { createOperatorMetrics, type OperatorMetrics } from "./metrics.ts";
export { createController, type Controller, type ControllerOptions } from "./controller.ts";
export { createWorkQueue, type WorkQueue, type WorkQueueOptions } from "./work-queue.ts";
export {
  createInformerCache,
  type InformerCache,
  type InformerCacheOptions,
  type InformerEvent,
} from "./informer-cache.ts";
export { createClusterCache, type ClusterCache, type ClusterCacheOptions } from "./cluster-cache.ts";
export {
  createNamespacedInformers,
  type NamespacedInformers,
  type NamespacedInformersOptions,
} from "./namespaced-informers.ts";
export {
  createKubernetesHttp,
  type KubernetesHttp,
  type KubernetesRequestOptions,
} from "./kubernetes-http.ts";
export { createKubernetesClient, type KubernetesClient, type ObjectList } from "./kubernetes-client.ts";
export { resourcePath, resourceTypes, type ResourceType } from "./resource-types.ts";
export {
  createLeaderElector,
  type LeaderElectionOptions,
  type LeaderElector,
  type LeadershipCallbacks,
} from "./leader-election.ts";
export { createEventRecorder, type EventRecorder } from "./event-recorder.ts";
export { discoverTools, type ToolDiscoveryOptions } from "./tool-discovery.ts";
export { unregisterAgent } from "./agent-registry-cleanup.ts";
