/** Benchmark output: the results table, the juraft/etcd ratios and the JSON document. */
import { availableParallelism, cpus, loadavg } from "node:os";
import type { RunResult } from "./driver.js";

/** The latency percentiles reported, as [label, quantile]. */
export const PERCENTILES = [
  ["p50", 0.5],
  ["p90", 0.9],
  ["p99", 0.99],
  ["p99.9", 0.999],
] as const;

const ms = (us: number): string => (us / 1000).toFixed(us < 10_000 ? 2 : 1);
const secs = (s: number): string => (Number.isNaN(s) ? "-" : s.toFixed(1));

/** Operations per second of a result. */
export function rate(r: RunResult): number {
  return r.elapsedS > 0 ? r.ops / r.elapsedS : 0;
}

/** The results as an aligned text table (latencies in milliseconds). */
export function table(results: readonly RunResult[]): string {
  const head = ["target", "workload", "clients", "ops/s", ...PERCENTILES.map(([l]) => `${l} ms`)];
  head.push("max ms", "aborts", "errors", "server CPU s", "loadgen CPU s");
  const rows = results.map((r) => [
    r.target,
    r.workload,
    String(r.clients),
    rate(r).toFixed(0),
    ...PERCENTILES.map(([, q]) => ms(r.hist.percentile(q))),
    ms(r.hist.max),
    String(r.aborts),
    String(r.errors),
    r.serverCpuS.length === 0 ? "-" : r.serverCpuS.map((s) => secs(s.seconds)).join("/"),
    secs(r.loadGenCpuS),
  ]);
  const widths = head.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  return [line(head), ...rows.map(line)].join("\n");
}

/** juraft/etcd ratios of throughput and p99 per (workload, clients), for `--compare`. */
export function ratios(results: readonly RunResult[]): string[] {
  const out: string[] = [];
  for (const j of results) {
    if (j.target !== "juraft") continue;
    const e = results.find(
      (r) => r.target === "etcd" && r.workload === j.workload && r.clients === j.clients,
    );
    if (e === undefined) continue;
    const tput = rate(e) > 0 ? rate(j) / rate(e) : Number.NaN;
    const p99j = j.hist.percentile(0.99);
    const p99e = e.hist.percentile(0.99);
    out.push(
      `${j.workload} @ ${j.clients} clients: juraft/etcd throughput ${tput.toFixed(2)}x, ` +
        `p99 ${ms(p99j)} ms vs ${ms(p99e)} ms (${p99j <= p99e ? "no worse" : "worse"})`,
    );
  }
  return out;
}

/** One result as plain JSON (latencies in milliseconds, histogram buckets in microseconds). */
export function resultJson(r: RunResult): Record<string, unknown> {
  const latencyMs: Record<string, number> = {};
  for (const [l, q] of PERCENTILES) latencyMs[l] = r.hist.percentile(q) / 1000;
  latencyMs.max = r.hist.max / 1000;
  latencyMs.mean = r.hist.mean / 1000;
  return {
    target: r.target,
    workload: r.workload,
    clients: r.clients,
    ops: r.ops,
    opsPerSec: rate(r),
    aborts: r.aborts,
    errors: r.errors,
    firstError: r.firstError ?? null,
    elapsedS: r.elapsedS,
    latencyMs,
    serverCpuS: r.serverCpuS,
    loadGenCpuS: r.loadGenCpuS,
    histogramUs: r.hist.buckets(),
  };
}

/** The JSON document of a benchmark invocation. */
export function benchJson(
  argv: readonly string[],
  results: readonly RunResult[],
  warmup: readonly { readonly target: string; readonly ms: number; readonly ops: number }[] = [],
): string {
  const doc = {
    command: ["juraft", ...argv].join(" "),
    finishedAt: new Date().toISOString(),
    machine: {
      cpus: availableParallelism(),
      model: cpus()[0]?.model ?? "unknown",
      loadavg: loadavg(),
      node: process.version,
    },
    // Unmeasured: what each target ran before the measured rounds (--warmup).
    warmup,
    results: results.map(resultJson),
    ratios: ratios(results),
  };
  return JSON.stringify(doc, null, 2) + "\n";
}
