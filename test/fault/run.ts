/**
 * One fault run: a cluster on its own network, both workloads, the nemeses for `timeSec`, then
 * heal, final reads, and the three checkers. Everything created is removed in `finally`.
 */
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Consistency } from "../../proto/gen/juraft/store/v1/store_pb.js";
import { Rng } from "../raft/sim/rng.js";
import { checkConvergence, type ConvergenceVerdict, type NodeDump } from "./checker/convergence.js";
import { checkRegisters, type LinearizabilityVerdict } from "./checker/linearizable.js";
import { checkListAppend, type ListAppendVerdict } from "./checker/list-append.js";
import { FaultCluster, sleep } from "./cluster.js";
import { toJsonLines } from "./history.js";
import { createNet, sweepStale } from "./net.js";
import { healAll, runNemeses, type NemesisContext, type NemesisName } from "./nemesis.js";
import { Recorder } from "./recorder.js";
import { timelineSvg } from "./svg.js";
import { AppendWorkload, ClientPool, RegisterWorkload } from "./workload.js";

/** Options of a run. */
export interface RunOptions {
  readonly nodes: number;
  readonly timeSec: number;
  readonly nemeses: readonly NemesisName[];
  readonly seed: number;
  readonly net?: "auto" | "netns" | "proxy";
  readonly tickMs?: number;
  readonly processes?: number;
  readonly outDir?: string;
  /** Fault duration and quiet time between faults, ms ranges (default 1.5–4 s and 0.5–2 s). */
  readonly holdMs?: [number, number];
  readonly quietMs?: [number, number];
  /** Sometimes two nemeses at once (default: with more than two nemeses). */
  readonly combine?: boolean;
  /** Run past `timeSec` until every nemesis has run once. */
  readonly fullCycle?: boolean;
  /** Register read consistency (local reads are not linearizable: a check of the checker). */
  readonly reads?: "quorum" | "local";
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
  readonly signal?: AbortSignal;
}

/** What a run found. */
export interface RunReport {
  readonly mode: string;
  readonly nodes: number;
  readonly seconds: number;
  readonly ops: { total: number; ok: number; fail: number; info: number };
  readonly faults: Record<string, number>;
  readonly registers: LinearizabilityVerdict;
  readonly listAppend: ListAppendVerdict;
  readonly convergence: ConvergenceVerdict;
  /** Unexpected node exits (expected with a full disk). */
  readonly crashes: readonly string[];
  readonly valid: boolean | "unknown";
}

let runs = 0;

async function dumpOf(c: FaultCluster, slot: number): Promise<NodeDump> {
  const cl = c.client(slot, 10_000);
  try {
    const parts: Uint8Array[] = [];
    let index = 0n;
    for await (const r of cl.store().dump({ consistency: Consistency.LOCAL })) {
      if (parts.length === 0) index = r.appliedIndex;
      parts.push(r.data);
    }
    return {
      node: c.nodes[slot]?.name ?? `n${slot}`,
      appliedIndex: index,
      bytes: Buffer.concat(parts),
    };
  } finally {
    cl.close();
  }
}

/** Dumps every member once all report the same applied index (bounded retries). */
export async function converge(
  c: FaultCluster,
  members: readonly number[],
  revive: () => Promise<void> = () => Promise.resolve(),
): Promise<ConvergenceVerdict> {
  let last: ConvergenceVerdict = { valid: false, why: "not attempted", dumps: [] };
  for (let attempt = 0; attempt < 60; attempt++) {
    // A node that failed just as it was healed (a full disk: the runtime fails, the process
    // exits a moment later) is started again.
    if (members.some((s) => c.nodes[s]?.running !== true)) await revive();
    const st = await Promise.all(members.map((s) => c.status(s, 3000)));
    const idx = st.map((s) => s?.appliedIndex.toString() ?? "?");
    last = { valid: false, why: `applied indexes not equal yet: ${idx.join(", ")}`, dumps: [] };
    if (new Set(idx).size === 1 && !idx.includes("?")) {
      last = checkConvergence(await Promise.all(members.map((s) => dumpOf(c, s))));
      if (last.valid) return last;
    }
    await sleep(500);
  }
  return last;
}

/** Runs one fault run and returns its report (and writes it to `outDir` if given). */
export async function faultRun(o: RunOptions): Promise<RunReport> {
  const log = o.log ?? ((): void => undefined);
  const prefix = `jrf-${process.pid}-${runs++ % 10}`;
  await sweepStale();
  const dir = await mkdtemp(join(tmpdir(), "juraft-fault-"));
  const tickMs = o.tickMs ?? 50;
  const net = await createNet(o.nodes, { mode: o.net ?? "auto", prefix });
  const why =
    net.mode === "netns"
      ? ""
      : o.net === "proxy"
        ? " (requested)"
        : " (no network namespaces here)";
  log(`network mode: ${net.mode}${why}`);
  const tmpfsMiB = net.mode === "netns" && o.nemeses.includes("disk") ? 64 : 0;
  const cluster = new FaultCluster(net, o.nodes, {
    dir,
    tickMs,
    snapshotEvery: 500,
    snapshotTrailing: 100,
    tmpfsMiB,
  });
  const members = Array.from({ length: o.nodes }, (_, i) => i);
  const pool = new ClientPool(cluster, members);
  const rec = new Recorder();
  try {
    await cluster.boot(o.nodes);
    log(`${o.nodes} nodes serving; leader n${(await cluster.leader()) ?? "?"}`);
    const processes = o.processes ?? 4;
    const reg = new RegisterWorkload(rec, pool, {
      processes,
      activeKeys: 4,
      opsPerKey: 60,
      seed: o.seed,
      ...(o.reads !== undefined ? { reads: o.reads } : {}),
    });
    const app = new AppendWorkload(rec, pool, {
      processes,
      activeKeys: 6,
      opsPerKey: 40,
      seed: o.seed,
    });
    const work = new AbortController();
    const nem = new AbortController();
    const stopAll = (): void => {
      nem.abort();
      work.abort();
    };
    o.signal?.addEventListener("abort", stopAll, { once: true });
    const ctx: NemesisContext = {
      cluster,
      rec,
      rng: new Rng(o.seed),
      members,
      electionMs: tickMs * 10,
    };
    const workloads = Promise.all([reg.run(work.signal), app.run(work.signal)]);
    const nemesis =
      o.nemeses.length === 0
        ? sleep(0)
        : runNemeses(
            ctx,
            o.nemeses,
            {
              holdMs: o.holdMs ?? [1500, 4000],
              quietMs: o.quietMs ?? [500, 2000],
              combine: o.combine ?? o.nemeses.length > 2,
              fullCycle: o.fullCycle ?? false,
            },
            nem.signal,
          );
    const timer = setTimeout(() => {
      nem.abort();
    }, o.timeSec * 1000);
    await nemesis.finally(() => {
      clearTimeout(timer);
    });
    if (o.nemeses.length === 0) await sleep(o.timeSec * 1000);
    log(`faults over (${rec.faults.length}); healing`);
    await healAll(ctx);
    await cluster.waitVoters(o.nodes, 60_000);
    await sleep(2000); // recovery under the workload
    work.abort();
    await workloads;
    if (members.some((s) => cluster.nodes[s]?.running !== true)) await healAll(ctx);
    const finalAfter = rec.now();
    for (const s of members) {
      for (let i = 0; i < app.allKeys.length; i += 20)
        await app.read(1000 + s, s, app.allKeys.slice(i, i + 20));
    }
    const registers = checkRegisters(rec.events, reg.initial);
    const listAppend = checkListAppend(rec.events, { finalAfter });
    const convergence = await converge(cluster, members, () => healAll(ctx));
    const completions = rec.events.filter((e) => e.type !== "invoke");
    const ops = {
      total: completions.length,
      ok: completions.filter((e) => e.type === "ok").length,
      fail: completions.filter((e) => e.type === "fail").length,
      info: completions.filter((e) => e.type === "info").length,
    };
    const faults: Record<string, number> = {};
    for (const f of rec.faults) faults[f.kind] = (faults[f.kind] ?? 0) + 1;
    const valid =
      registers.valid === false || !listAppend.valid || !convergence.valid
        ? false
        : registers.valid === "unknown"
          ? "unknown"
          : true;
    const report: RunReport = {
      mode: net.mode,
      nodes: o.nodes,
      seconds: Math.round(rec.now() / 1000),
      ops,
      faults,
      registers,
      listAppend,
      convergence,
      crashes: cluster.nodes.flatMap((n) => n.crashes),
      valid,
    };
    if (o.outDir !== undefined) {
      await mkdir(o.outDir, { recursive: true });
      await writeFile(join(o.outDir, "history.jsonl"), toJsonLines(rec.events));
      await writeFile(join(o.outDir, "faults.json"), JSON.stringify(rec.faults, null, 1) + "\n");
      await writeFile(join(o.outDir, "verdict.json"), JSON.stringify(report, null, 1) + "\n");
      await writeFile(
        join(o.outDir, "timeline.svg"),
        timelineSvg(
          rec.events,
          rec.faults,
          `juraft fault run: ${o.nodes} nodes, ${o.nemeses.join("+")}, seed ${o.seed}, valid=${String(valid)}`,
        ),
      );
    }
    return report;
  } finally {
    pool.close();
    await cluster.close();
    await net.close();
    await rm(dir, { recursive: true, force: true });
  }
}
