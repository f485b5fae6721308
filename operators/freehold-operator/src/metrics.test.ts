import { describe, expect, it } from "vitest";
import { createOperatorMetrics } from "./metrics.ts";

describe("createOperatorMetrics", () => {
  it("renders counts, errors, latency buckets, queue depth and leadership", () => {
    const metrics = createOperatorMetrics();
    metrics.observeReconcile("Agent", "success", 0.02);
    metrics.observeReconcile("Agent", "error", 3);
    metrics.trackQueueDepth("Agent", () => 7);
    metrics.setLeader(true);
    const text = metrics.render();
    expect(text).toContain('freehold_operator_reconcile_total{kind="Agent",result="success"} 1');
    expect(text).toContain('freehold_operator_reconcile_total{kind="Agent",result="error"} 1');
    expect(text).toContain('freehold_operator_reconcile_errors_total{kind="Agent"} 1');
    expect(text).toContain('freehold_operator_reconcile_duration_seconds_bucket{kind="Agent",le="0.025"} 1');
    expect(text).toContain('freehold_operator_reconcile_duration_seconds_bucket{kind="Agent",le="5"} 2');
    expect(text).toContain('freehold_operator_reconcile_duration_seconds_count{kind="Agent"} 2');
    expect(text).toContain('freehold_operator_queue_depth{kind="Agent"} 7');
    expect(text).toContain("freehold_operator_leader 1");
  });
});
