/**
 * Leader election with a `coordination.k8s.io/v1` Lease, as client-go does it: one replica holds
 * the Lease and renews it; the others watch it and take it over once it has not been renewed for
 * `leaseDurationSeconds` of their own clocks (so clock skew between nodes does not matter). A
 * leader that cannot renew within `renewDeadlineMs` steps down. On stop, a leader releases the
 * Lease so a standby takes over at once.
 *
 * @module
 */
import { isFreeholdError } from "@freehold/api";
import type { KubernetesClient } from "./kubernetes-client.ts";
import type { KubernetesObject } from "./kubernetes-objects.ts";
import { resourceTypes } from "./resource-types.ts";

/** Options of {@link createLeaderElector}. */
export interface LeaderElectionOptions {
  readonly client: KubernetesClient;
  /** The namespace of the Lease (the operator's own). */
  readonly namespace: string;
  /** The Lease's name. Default: freehold-operator. */
  readonly name?: string;
  /** This replica's identity, e.g. its pod name. */
  readonly identity: string;
  /** How long a Lease lasts without renewal. Default: 15 s. */
  readonly leaseDurationSeconds?: number;
  /** How long a leader keeps trying to renew before it steps down. Default: 10 s. */
  readonly renewDeadlineMs?: number;
  /** How often to try to acquire or renew. Default: 2 s. */
  readonly retryPeriodMs?: number;
  readonly log: (line: string) => void;
}

/** What to do when leadership starts and ends. */
export interface LeadershipCallbacks {
  onStartedLeading(): Promise<void>;
  onStoppedLeading(): Promise<void>;
}

/** A replica taking part in the election. */
export interface LeaderElector {
  /** Campaigns until stopped, calling back on each change of leadership. */
  run(callbacks: LeadershipCallbacks): void;
  isLeader(): boolean;
  /** Stops campaigning; a leader steps down and releases the Lease. */
  stop(): Promise<void>;
}

interface Lease extends KubernetesObject {
  readonly spec?: {
    readonly holderIdentity?: string;
    readonly leaseDurationSeconds?: number;
    readonly acquireTime?: string;
    readonly renewTime?: string;
    readonly leaseTransitions?: number;
  };
}

/** A MicroTime: RFC 3339 with six fractional digits. */
function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/**
 * @example
 * ```ts
 * const elector = createLeaderElector({ client, namespace: "freehold-system", identity: podName, log });
 * elector.run({ onStartedLeading: startControllers, onStoppedLeading: stopControllers });
 * ```
 */
export function createLeaderElector(options: LeaderElectionOptions): LeaderElector {
  const name = options.name ?? "freehold-operator";
  const duration = options.leaseDurationSeconds ?? 15;
  const renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
  const retryPeriodMs = options.retryPeriodMs ?? 2_000;
  const { client, namespace, identity } = options;
  let leader = false;
  let stopped = false;
  let lastRenewal = 0;
  let observed: { record: string; at: number } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let transition: Promise<void> = Promise.resolve();
  let callbacks: LeadershipCallbacks | undefined;
  let loop: Promise<void> = Promise.resolve();

  const write = async (lease: Lease | undefined, now: Date): Promise<void> => {
    const spec = lease?.spec ?? {};
    const taking = spec.holderIdentity !== identity;
    const body: Lease = {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: {
        name,
        namespace,
        ...(lease?.metadata.resourceVersion === undefined
          ? {}
          : { resourceVersion: lease.metadata.resourceVersion }),
      },
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds: duration,
        acquireTime: taking ? microTime(now) : (spec.acquireTime ?? microTime(now)),
        renewTime: microTime(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (taking && lease !== undefined ? 1 : 0),
      },
    };
    await (lease === undefined ? client.create(body) : client.replace(body));
  };

  /** One attempt to acquire or renew; true when this replica holds the Lease afterwards. */
  const attempt = async (): Promise<boolean> => {
    const now = new Date();
    const lease = await client.get<Lease>(resourceTypes.leases, namespace, name);
    const spec = lease?.spec;
    const record = `${spec?.holderIdentity ?? ""}|${spec?.renewTime ?? ""}`;
    if (observed?.record !== record) observed = { record, at: Date.now() };
    const holder = spec?.holderIdentity ?? "";
    const expired = Date.now() - observed.at > (spec?.leaseDurationSeconds ?? duration) * 1000;
    if (lease !== undefined && holder !== "" && holder !== identity && !expired) return false;
    await write(lease, now);
    return true;
  };

  const change = (next: boolean): void => {
    if (next === leader) return;
    leader = next;
    options.log(
      next ? `${identity} became the leader (Lease ${namespace}/${name})` : `${identity} stopped leading`,
    );
    const current = callbacks;
    transition = transition
      .then(() => (next ? current?.onStartedLeading() : current?.onStoppedLeading()))
      .catch((error: unknown) => {
        options.log(`leadership callback failed: ${error instanceof Error ? error.message : String(error)}`);
      });
  };

  const tick = async (): Promise<void> => {
    try {
      const holds = await attempt();
      if (holds) lastRenewal = Date.now();
      change(holds);
    } catch (error) {
      const conflict = isFreeholdError(error, "kubernetes.conflict");
      if (!conflict) {
        options.log(`Lease ${namespace}/${name}: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (leader && Date.now() - lastRenewal > renewDeadlineMs) change(false);
    }
  };

  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      loop = tick().then(schedule);
    }, retryPeriodMs);
  };

  return {
    run(given) {
      callbacks = given;
      stopped = false;
      loop = tick().then(schedule);
    },
    isLeader: () => leader,
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await loop;
      if (leader) {
        change(false);
        await transition;
        try {
          const lease = await client.get<Lease>(resourceTypes.leases, namespace, name);
          if (lease?.spec?.holderIdentity === identity) {
            await client.replace({
              ...lease,
              spec: { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1 },
            });
          }
        } catch (error) {
          options.log(
            `could not release Lease ${namespace}/${name}: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      }
      await transition;
    },
  };
}
