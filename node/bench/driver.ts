/**
 * The load driver: N concurrent clients run a workload against a target for a duration or an
 * operation count, recording each operation's latency, aborts and errors, and the CPU seconds of
 * every server process and of this load generator.
 */
import { setMaxListeners } from "node:events";
import { performance } from "node:perf_hooks";
import { Histogram } from "./histogram.js";
import { cpuSeconds, selfCpuSeconds, sleep } from "./procs.js";
import type { Target } from "./target.js";
import type { ClientState, Workload, WorkloadParams } from "./workloads.js";

/** How long or how much to run. */
export interface RunOptions {
  /** Concurrent clients (watchers for `watch`). */
  readonly clients: number;
  /** Stop after this many milliseconds ... */
  readonly durationMs?: number;
  /** ... or after this many operations in total. */
  readonly count?: number;
  /** Called about every 100 ms with the operations completed so far. */
  readonly onProgress?: (done: number) => void;
}

/** The measurements of one run. */
export interface RunResult {
  readonly target: string;
  readonly workload: string;
  readonly clients: number;
  readonly ops: number;
  readonly aborts: number;
  readonly errors: number;
  readonly elapsedS: number;
  readonly hist: Histogram;
  /** CPU seconds of each server process during the run. */
  readonly serverCpuS: { readonly name: string; readonly seconds: number }[];
  /** CPU seconds of this process during the run. */
  readonly loadGenCpuS: number;
  /** The first error message seen, if any. */
  readonly firstError: string | undefined;
}

/** Hard cap on one client's loop (a run is bounded by time or count before this). */
const MAX_OPS_PER_CLIENT = 100_000_000;

async function cpuOf(t: Target, signal: AbortSignal): Promise<number[]> {
  return Promise.all(t.servers.map((s) => cpuSeconds(s.pid, signal)));
}

/** Runs `w` against `t` and returns the measurements; `signal` aborts the run early. */
export async function run(
  t: Target,
  w: Workload,
  p: WorkloadParams,
  o: RunOptions,
  signal: AbortSignal,
): Promise<RunResult> {
  if (o.durationMs === undefined && o.count === undefined)
    throw new Error("run: give a duration or a count");
  const hist = new Histogram();
  let ops = 0;
  let aborts = 0;
  let errors = 0;
  let issued = 0;
  let firstError: string | undefined;
  const stop = new AbortController();
  const runSignal = AbortSignal.any([signal, stop.signal]);
  setMaxListeners(0, runSignal);
  const watching = w.name === "watch";
  const started = new Map<string, number>();
  if (watching) {
    const prefix = `w-${p.runId}-`;
    const onId = (id: string): void => {
      const s = started.get(id);
      if (!id.startsWith(prefix) || s === undefined) return;
      hist.record((performance.now() - s) * 1000);
      ops++;
    };
    await Promise.all(Array.from({ length: o.clients }, () => t.watch("bench", onId, runSignal)));
  }
  const timer =
    o.durationMs === undefined
      ? undefined
      : setTimeout(() => {
          stop.abort();
        }, o.durationMs);
  const progress = setInterval(() => o.onProgress?.(ops), 100);
  const cpu0 = await cpuOf(t, signal);
  const self0 = selfCpuSeconds();
  const t0 = performance.now();
  const value = "x".repeat(p.valueSize);
  const client = async (i: number): Promise<void> => {
    const session = t.session(i);
    const s: ClientState = { client: i, seq: 0, value };
    for (; s.seq < MAX_OPS_PER_CLIENT && !runSignal.aborted; s.seq++) {
      if (o.count !== undefined && issued >= o.count) break;
      issued++;
      const start = performance.now();
      if (watching) started.set(`w-${p.runId}-${i}-${s.seq}`, start);
      try {
        const r = await w.op(session, s, p, runSignal);
        if (!watching) hist.record((performance.now() - start) * 1000);
        if (r === "aborted") aborts++;
        else if (!watching) ops++;
      } catch (err) {
        if (isAborted(runSignal)) break;
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
        await sleep(10, runSignal).catch(() => undefined);
      }
    }
  };
  // Watch: a few writers; the measured clients are the watchers.
  const writers = watching ? Math.min(4, o.clients) : o.clients;
  try {
    await Promise.all(Array.from({ length: writers }, (_, i) => client(i)));
    // Let the last deliveries arrive.
    if (watching) await sleep(500, signal).catch(() => undefined);
  } finally {
    clearTimeout(timer);
    clearInterval(progress);
    stop.abort();
  }
  const elapsedS = (performance.now() - t0) / 1000;
  const loadGenCpuS = selfCpuSeconds() - self0;
  const cpu1 = await cpuOf(t, signal);
  o.onProgress?.(ops);
  return {
    target: t.name,
    workload: w.name,
    clients: o.clients,
    ops,
    aborts,
    errors,
    elapsedS,
    hist,
    serverCpuS: t.servers.map((s, i) => ({
      name: s.name,
      seconds: (cpu1[i] ?? NaN) - (cpu0[i] ?? NaN),
    })),
    loadGenCpuS,
    firstError,
  };
}

/** Adds run `b` (another round of the same target, workload and clients) into `a`. */
export function combine(a: RunResult, b: RunResult): RunResult {
  const hist = new Histogram();
  hist.merge(a.hist);
  hist.merge(b.hist);
  return {
    ...a,
    ops: a.ops + b.ops,
    aborts: a.aborts + b.aborts,
    errors: a.errors + b.errors,
    elapsedS: a.elapsedS + b.elapsedS,
    hist,
    serverCpuS: a.serverCpuS.map((s, i) => ({
      name: s.name,
      seconds: s.seconds + (b.serverCpuS[i]?.seconds ?? 0),
    })),
    loadGenCpuS: a.loadGenCpuS + b.loadGenCpuS,
    firstError: a.firstError ?? b.firstError,
  };
}

/** Whether `s` aborted (a call, so that the compiler does not narrow it from an earlier test). */
function isAborted(s: AbortSignal): boolean {
  return s.aborted;
}
