/**
 * `juraft bench`: runs a workload against juraft (`--local 3` by default, or `--endpoints`) and/or
 * etcd (`--etcd local:3`, `--etcd-endpoints`), `--compare` both in interleaved rounds, `--scale`
 * over 1, 16, 64 and 256 clients; prints a table and ratios, writes `--json` and `--svg`.
 */
import { writeFile } from "node:fs/promises";
import { SingleBar } from "cli-progress";
import { combine, run, type RunResult } from "./driver.js";
import { EtcdTarget } from "./etcd-target.js";
import { JuraftTarget } from "./juraft-target.js";
import { benchJson, ratios, table } from "./report.js";
import { chart } from "./svg.js";
import type { Target } from "./target.js";
import {
  WORKLOADS,
  prepare,
  workloadOf,
  type WorkloadName,
  type WorkloadParams,
} from "./workloads.js";

/** The flags of `juraft bench` as commander hands them over. */
export interface BenchFlags {
  workload: string;
  clients: string;
  duration?: string;
  count?: string;
  keys: string;
  valueSize: string;
  consistency: string;
  local: string;
  tickMs?: string;
  etcd?: string;
  etcdEndpoints?: string;
  compare?: boolean;
  scale?: boolean;
  rounds: string;
  warmup?: string;
  json?: string;
  svg?: string;
}

/** Concurrency levels of `--scale`. */
export const SCALE_LEVELS = [1, 16, 64, 256] as const;

/** A usage error of `juraft bench`. */
export class BenchUsageError extends Error {}

function int(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new BenchUsageError(
      `bench: ${name} must be an integer in ${min}..${max}, got ${JSON.stringify(v)}`,
    );
  return n;
}

/** Parses "20s", "500ms", "2m" or a plain number of seconds into milliseconds. */
export function parseDuration(v: string, flag = "--duration"): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v.trim());
  if (m === null) throw new BenchUsageError(`bench: ${flag}: cannot parse ${JSON.stringify(v)}`);
  const n = Number(m[1]);
  const unit = m[2] ?? "s";
  return Math.round(unit === "ms" ? n : unit === "m" ? n * 60_000 : n * 1000);
}

const list = (v: string): string[] =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

/** Opens the targets the flags ask for, juraft first. */
async function openTargets(
  f: BenchFlags,
  juraftEndpoints: readonly string[] | undefined,
  signal: AbortSignal,
): Promise<Target[]> {
  const wantEtcd = f.compare === true || f.etcd !== undefined || f.etcdEndpoints !== undefined;
  const wantJuraft = f.compare === true || !wantEtcd;
  const targets: Target[] = [];
  try {
    if (wantJuraft) {
      const o = { local: int("--local", f.local, 1, 9) };
      targets.push(
        await JuraftTarget.open(
          {
            ...o,
            ...(juraftEndpoints !== undefined ? { endpoints: juraftEndpoints } : {}),
            ...(f.tickMs !== undefined ? { tickMs: int("--tick-ms", f.tickMs, 1, 10_000) } : {}),
          },
          signal,
        ),
      );
    }
    if (wantEtcd) {
      if (f.etcdEndpoints !== undefined)
        targets.push(await EtcdTarget.open({ endpoints: list(f.etcdEndpoints) }, signal));
      else {
        const spec = f.etcd ?? "local:3";
        const m = /^local:(\d)$/.exec(spec);
        if (m === null)
          throw new BenchUsageError(`bench: --etcd must be local:N, got ${JSON.stringify(spec)}`);
        targets.push(await EtcdTarget.open({ local: Number(m[1]) }, signal));
      }
    }
    return targets;
  } catch (err) {
    await Promise.all(targets.map((t) => t.close()));
    throw err;
  }
}

/** Runs `juraft bench`; returns the results (also printed, and written to --json / --svg). */
export async function bench(
  f: BenchFlags,
  juraftEndpoints: readonly string[] | undefined,
  argv: readonly string[],
  print: (line: string) => void,
  signal: AbortSignal,
): Promise<RunResult[]> {
  if (!(WORKLOADS as readonly string[]).includes(f.workload))
    throw new BenchUsageError(`bench: --workload must be one of ${WORKLOADS.join(", ")}`);
  const workload = workloadOf(f.workload as WorkloadName);
  if (f.consistency !== "quorum" && f.consistency !== "local")
    throw new BenchUsageError(`bench: --consistency must be quorum or local`);
  const count = f.count === undefined ? undefined : int("--count", f.count, 1, 1e9);
  const durationMs = count === undefined ? parseDuration(f.duration ?? "10s") : undefined;
  const rounds = int("--rounds", f.rounds, 1, 100);
  const warmupMs = parseDuration(f.warmup ?? "0", "--warmup");
  const levels = f.scale === true ? [...SCALE_LEVELS] : [int("--clients", f.clients, 1, 10_000)];
  const params: Omit<WorkloadParams, "runId"> = {
    keys: int("--keys", f.keys, 1, 10_000_000),
    valueSize: int("--value-size", f.valueSize, 0, 16 * 1024 * 1024),
    consistency: f.consistency,
  };
  const targets = await openTargets(f, juraftEndpoints, signal);
  const bar = new SingleBar({
    format: "{label} [{bar}] {percentage}% | {ops} ops",
    noTTYOutput: false,
    hideCursor: true,
  });
  const unit = durationMs ?? count ?? 1;
  const perRound = (v: number): number => Math.max(1, Math.floor(v / rounds));
  bar.start(levels.length * rounds * targets.length * unit, 0, { label: "starting", ops: 0 });
  const results: RunResult[] = [];
  const warmups: { target: string; ms: number; ops: number }[] = [];
  try {
    const runId = Date.now().toString(36);
    for (const t of targets) await prepare(t, workload, { ...params, runId }, signal);
    // Measure steady state: freshly started servers first compile and size their heaps (a JIT
    // warms up over seconds). The warm-up's operations are not results.
    if (warmupMs > 0)
      for (const t of targets) {
        bar.update(0, { label: `${t.name} warm-up`, ops: 0 });
        const p = { ...params, runId: `${runId}-warmup` };
        const clients = levels[0] ?? 1;
        const r = await run(t, workload, p, { clients, durationMs: warmupMs }, signal);
        signal.throwIfAborted();
        warmups.push({ target: t.name, ms: warmupMs, ops: r.ops });
      }
    let step = 0;
    for (const clients of levels) {
      const acc = new Map<string, RunResult>();
      for (let round = 0; round < rounds; round++) {
        for (const t of targets) {
          signal.throwIfAborted();
          const base = step++ * perRound(unit);
          const p: WorkloadParams = { ...params, runId: `${runId}-${clients}-${round}` };
          const label = `${t.name} ${workload.name} c=${clients} round ${round + 1}/${rounds}`;
          const r = await run(
            t,
            workload,
            p,
            {
              clients,
              ...(durationMs !== undefined ? { durationMs: perRound(durationMs) } : {}),
              ...(count !== undefined ? { count: perRound(count) } : {}),
              onProgress: (ops) => {
                const done = durationMs === undefined ? Math.min(ops, perRound(unit)) : 0;
                bar.update(base + done, { label, ops });
              },
            },
            signal,
          );
          // An interrupted round is cut short: it is not a result.
          signal.throwIfAborted();
          const prev = acc.get(t.name);
          acc.set(t.name, prev === undefined ? r : combine(prev, r));
          bar.update(base + perRound(unit), { label, ops: r.ops });
        }
      }
      results.push(...acc.values());
    }
  } finally {
    bar.stop();
    await Promise.all(targets.map((t) => t.close()));
  }
  print(table(results));
  for (const line of ratios(results)) print(line);
  if (f.json !== undefined) await writeFile(f.json, benchJson(argv, results, warmups), { signal });
  if (f.svg !== undefined) {
    const caption = `juraft ${argv.join(" ")}`;
    await writeFile(f.svg, chart(results, caption), { signal });
  }
  return results;
}

/**
 * The `juraft bench` action: runs `bench` until done or Ctrl-C, and returns the exit status
 * (0 done, 1 failed, 2 usage). `endpoints` is the program's `--endpoints` when given on the
 * command line (a host:port list), else undefined (start `--local` nodes).
 */
export async function benchCli(
  f: BenchFlags,
  endpoints: string | undefined,
  argv: readonly string[],
): Promise<number> {
  const ac = new AbortController();
  const stop = (): void => {
    ac.abort(new Error("bench: interrupted"));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    await bench(
      f,
      endpoints === undefined ? undefined : list(endpoints),
      argv,
      (l) => {
        process.stdout.write(l + "\n");
      },
      ac.signal,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`juraft: ${err instanceof Error ? err.message : String(err)}\n`);
    return err instanceof BenchUsageError ? 2 : 1;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}
