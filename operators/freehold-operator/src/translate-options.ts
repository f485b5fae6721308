/**
 * What translations need from the operator's configuration: the images, how workers reach Redis,
 * and whether workers serve health probes.
 *
 * @module
 */

/** Options of the translations, set once when the operator starts. */
export interface TranslateOptions {
  /** The image of runtime workers and MCP bridges (with `freehold` on its PATH), e.g. `ghcr.io/freehold/runtime:0.1.0`. */
  readonly runtimeImage: string;
  /**
   * Where workers reach Redis. When set, workers read `FREEHOLD_REDIS_URL` from the Secret
   * `freehold-redis` of their namespace (which the operator writes: a tenant's credential, or this
   * URL in single-tenant namespaces), never a literal value; KEDA's Redis trigger gets its host and
   * port. Absent: workers must get it from `spec.runtime.env`.
   */
  readonly workerRedisUrl?: string;
  /**
   * The port on which workers serve `/healthz` and `/readyz` (`freehold worker --health-port`).
   * When set, worker pods get liveness and readiness probes and their Service exposes the port.
   */
  readonly workerHealthPort?: number;
  /**
   * Namespaces whose pods (Prometheus) scrape the workers' `/metrics`: a tenant's NetworkPolicy
   * admits them on the workers' health port. Needs `workerHealthPort`.
   */
  readonly metricsScrapeNamespaces?: readonly string[];
  /**
   * The operator's namespace. When set, a stdio bridge's NetworkPolicy also admits the operator's
   * pods (`app.kubernetes.io/part-of: freehold`, `app.kubernetes.io/component: operator`), which
   * connect to the bridge to list its tools.
   */
  readonly operatorNamespace?: string;
  /**
   * How long finished runs keep their state and events (`7d`, `12h`, seconds; `0` keeps them): the
   * workers get it as `FREEHOLD_RUN_RETENTION` (an agent's `spec.runtime.env` may override it).
   * Absent: the workers' default, 7 days.
   */
  readonly runRetention?: string;
  /** The image pull policy of every container. Default: IfNotPresent. */
  readonly imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
}
