/** Shared by the benchmark tests: run each workload briefly against a target and check sanity. */
import { run, type RunResult } from "../../node/bench/driver.js";
import type { Target } from "../../node/bench/target.js";
import { WORKLOADS, prepare, workloadOf, type WorkloadName } from "../../node/bench/workloads.js";

/** Operations per client of each workload in the tests (enough for update-hot to contend). */
const OPS_PER_CLIENT = 12;

/** Runs every workload with `clients` clients (watch for `ms`); returns the results by name. */
export async function runAll(
  t: Target,
  ms: number,
  clients: number,
  signal: AbortSignal,
): Promise<Map<WorkloadName, RunResult>> {
  const out = new Map<WorkloadName, RunResult>();
  for (const name of WORKLOADS) {
    const w = workloadOf(name);
    const p = {
      keys: 50,
      valueSize: 64,
      consistency: name === "read" ? ("local" as const) : ("quorum" as const),
      runId: `t${Date.now().toString(36)}`,
    };
    await prepare(t, w, p, signal);
    // A count, not a duration, bounds every workload but watch (whose clients are watchers that
    // only wait): on a loaded machine a short duration can end before any slow op completes.
    const bound = name === "watch" ? { durationMs: ms } : { count: OPS_PER_CLIENT * clients };
    out.set(name, await run(t, w, p, { clients, ...bound }, signal));
  }
  return out;
}

/** The sanity every result must show: operations done, no errors, latencies recorded. */
export function expectSane(results: Map<WorkloadName, RunResult>): void {
  for (const [name, r] of results) {
    expect({ name, errors: r.errors, firstError: r.firstError }).toEqual({
      name,
      errors: 0,
      firstError: undefined,
    });
    expect({ name, positive: r.ops > 0 }).toEqual({ name, positive: true });
    expect(r.hist.count).toBeGreaterThan(0);
    expect(r.hist.percentile(0.5)).toBeLessThanOrEqual(r.hist.max);
    expect(r.loadGenCpuS).toBeGreaterThan(0);
    for (const s of r.serverCpuS) expect(s.seconds).toBeGreaterThanOrEqual(0);
  }
  // update-hot contends on a handful of documents: some CAS lose and are counted as aborts.
  expect(results.get("update-hot")?.aborts ?? 0).toBeGreaterThan(0);
}
