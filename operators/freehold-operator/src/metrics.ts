/**
 * The operator's Prometheus metrics, in the text exposition format: reconciles (count, errors,
 * latency) per kind, queue depth per kind, and whether this replica leads.
 *
 * @module
 */

/** Latency buckets of a reconcile, in seconds. */
const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

interface Histogram {
  readonly counts: number[];
  sum: number;
  count: number;
}

/** The operator's metrics. */
export interface OperatorMetrics {
  /** Records one reconcile of a kind: how it ended and how long it took. */
  observeReconcile(kind: string, result: "success" | "error" | "requeue", seconds: number): void;
  /** Reports how many keys of a kind wait in its queue (read when scraped). */
  trackQueueDepth(kind: string, depth: () => number): void;
  setLeader(leader: boolean): void;
  /** The Prometheus text exposition of every metric. */
  render(): string;
}

function escape(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

/**
 * @example
 * ```ts
 * const metrics = createOperatorMetrics();
 * metrics.observeReconcile("Agent", "success", 0.012);
 * metrics.render(); // "# HELP freehold_operator_reconcile_total ..."
 * ```
 */
export function createOperatorMetrics(): OperatorMetrics {
  const totals = new Map<string, number>();
  const errors = new Map<string, number>();
  const latencies = new Map<string, Histogram>();
  const depths = new Map<string, () => number>();
  let leader = false;
  return {
    observeReconcile(kind, result, seconds) {
      const key = `${kind}\u0000${result}`;
      totals.set(key, (totals.get(key) ?? 0) + 1);
      if (result === "error") errors.set(kind, (errors.get(kind) ?? 0) + 1);
      const histogram = latencies.get(kind) ?? { counts: latencyBuckets.map(() => 0), sum: 0, count: 0 };
      latencyBuckets.forEach((bound, index) => {
        if (seconds <= bound) histogram.counts[index] = (histogram.counts[index] ?? 0) + 1;
      });
      histogram.sum += seconds;
      histogram.count += 1;
      latencies.set(kind, histogram);
    },
    trackQueueDepth(kind, depth) {
      depths.set(kind, depth);
    },
    setLeader(value) {
      leader = value;
    },
    render() {
      const lines: string[] = [
        "# HELP freehold_operator_reconcile_total Reconciles, by kind and result.",
        "# TYPE freehold_operator_reconcile_total counter",
      ];
      for (const [key, value] of [...totals].sort()) {
        const [kind = "", result = ""] = key.split("\u0000");
        lines.push(`freehold_operator_reconcile_total{kind="${escape(kind)}",result="${result}"} ${value}`);
      }
      lines.push(
        "# HELP freehold_operator_reconcile_errors_total Reconciles that failed, by kind.",
        "# TYPE freehold_operator_reconcile_errors_total counter",
      );
      for (const [kind, value] of [...errors].sort()) {
        lines.push(`freehold_operator_reconcile_errors_total{kind="${escape(kind)}"} ${value}`);
      }
      lines.push(
        "# HELP freehold_operator_reconcile_duration_seconds How long reconciles take, by kind.",
        "# TYPE freehold_operator_reconcile_duration_seconds histogram",
      );
      for (const [kind, histogram] of [...latencies].sort(([left], [right]) => left.localeCompare(right))) {
        const label = `kind="${escape(kind)}"`;
        latencyBuckets.forEach((bound, index) => {
          lines.push(
            `freehold_operator_reconcile_duration_seconds_bucket{${label},le="${bound}"} ${histogram.counts[index] ?? 0}`,
          );
        });
        lines.push(
          `freehold_operator_reconcile_duration_seconds_bucket{${label},le="+Inf"} ${histogram.count}`,
          `freehold_operator_reconcile_duration_seconds_sum{${label}} ${histogram.sum}`,
          `freehold_operator_reconcile_duration_seconds_count{${label}} ${histogram.count}`,
        );
      }
      lines.push(
        "# HELP freehold_operator_queue_depth Keys waiting in a controller's work queue, by kind.",
        "# TYPE freehold_operator_queue_depth gauge",
      );
      for (const [kind, depth] of [...depths].sort(([left], [right]) => left.localeCompare(right))) {
        lines.push(`freehold_operator_queue_depth{kind="${escape(kind)}"} ${depth()}`);
      }
      lines.push(
        "# HELP freehold_operator_leader Whether this replica holds the leader Lease (1) or stands by (0).",
        "# TYPE freehold_operator_leader gauge",
        `freehold_operator_leader ${leader ? 1 : 0}`,
      );
      return `${lines.join("\n")}\n`;
    },
  };
}
