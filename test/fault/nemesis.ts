/**
 * Nemeses: faults started and healed on a schedule, each recorded with its start and end.
 * kill (kill -9 and restart, a random node or the leader), pause (SIGSTOP longer than the election
 * timeout, then SIGCONT), partition (random halves, isolated leader, bridge, majorities ring,
 * rotating), degrade (netem; without it, loss and reordering from htb and u32, see shaper.ts;
 * delay only through the proxies), membership (remove a member during the
 * other faults, wipe it, rejoin it as a new member) and disk (fill a node's small tmpfs data
 * directory). With "all", one or two nemeses run at once.
 */
import { writeFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Rng } from "../raft/sim/rng.js";
import { sleep, type FaultCluster, type FaultNode } from "./cluster.js";
import type { FaultRecord, Recorder } from "./recorder.js";

/** The nemesis names. */
export const NEMESES = ["kill", "pause", "partition", "degrade", "membership", "disk"] as const;
export type NemesisName = (typeof NEMESES)[number];

/** What a nemesis needs. */
export interface NemesisContext {
  readonly cluster: FaultCluster;
  readonly rec: Recorder;
  readonly rng: Rng;
  /** Member slots (fixed: a removed member rejoins in its slot). */
  readonly members: readonly number[];
  /** Election timeout in ms (pauses last longer). */
  readonly electionMs: number;
}

type Heal = () => Promise<void>;

async function victim(ctx: NemesisContext, leaderBias: number): Promise<FaultNode> {
  const l = ctx.rng.chance(leaderBias) ? await ctx.cluster.leader() : undefined;
  const slot = l ?? ctx.rng.pick(ctx.members);
  return ctx.cluster.nodes[slot] as FaultNode;
}

const joinArgs = (ctx: NemesisContext, slot: number): string[] => {
  const other = ctx.members.filter((m) => m !== slot);
  return ["--join", other.map((m) => ctx.cluster.net.advertise(m)).join(",")];
};

/** Starts a slot's node again if it is down (a failed start is recorded, then retried by heal). */
async function revive(ctx: NemesisContext, n: FaultNode): Promise<void> {
  if (n.paused) await n.signal("SIGCONT");
  for (let i = 0; i < 5 && !n.running; i++) {
    try {
      await n.start(ctx.cluster, joinArgs(ctx, n.slot), 60_000);
    } catch (err) {
      ctx.rec.fault(
        "restart-failed",
        `${n.name}: ${err instanceof Error ? err.message.slice(0, 1000) : String(err)}`,
      ).end = ctx.rec.now();
      await sleep(500);
    }
  }
}

function halves(ctx: NemesisContext): [number[], number[]] {
  const shuffled = [...ctx.members].sort(() => ctx.rng.next() - 0.5);
  const k = Math.floor(shuffled.length / 2);
  return [shuffled.slice(0, k), shuffled.slice(k)];
}

async function partition(ctx: NemesisContext, f: FaultRecord, holdMs: number): Promise<Heal> {
  const net = ctx.cluster.net;
  const m = ctx.members;
  const kinds = ["halves", "isolated-leader", "bridge", "ring", "rotating"] as const;
  const kind = ctx.rng.pick(
    m.length >= 5 ? kinds : kinds.filter((k) => k !== "bridge" && k !== "ring"),
  );
  const apply = async (k: (typeof kinds)[number]): Promise<string> => {
    await net.heal("cuts");
    switch (k) {
      case "halves":
      case "rotating": {
        const [a, b] = halves(ctx);
        await net.cut(a, b);
        return `${JSON.stringify(a)} | ${JSON.stringify(b)}`;
      }
      case "isolated-leader": {
        const l = (await ctx.cluster.leader()) ?? ctx.rng.pick(m);
        await net.cut(
          [l],
          m.filter((x) => x !== l),
        );
        return `leader n${l} alone`;
      }
      case "bridge": {
        // Two sides that only one node (the bridge) sees both of.
        const s = [...m].sort(() => ctx.rng.next() - 0.5);
        const [a, b, bridge, d, e] = s as [number, number, number, number, number];
        await net.cut([a, b], [d, e]);
        return `[n${a},n${b}] - n${bridge} - [n${d},n${e}]`;
      }
      case "ring": {
        // Each node sees its two neighbours: a majority each, no two the same majority.
        for (let i = 0; i < m.length; i++)
          for (let j = i + 2; j < m.length; j++)
            if (!(i === 0 && j === m.length - 1)) await net.cut([m[i] as number], [m[j] as number]);
        return `ring ${m.map((x) => `n${x}`).join("-")}`;
      }
    }
  };
  f.detail = `${kind}: ${await apply(kind)}`;
  if (kind === "rotating") {
    const steps = 3;
    for (let i = 1; i < steps; i++) {
      await sleep(holdMs / steps);
      f.detail += `; ${await apply("rotating")}`;
    }
  }
  return () => net.heal("cuts");
}

async function membership(ctx: NemesisContext, f: FaultRecord): Promise<Heal> {
  const c = ctx.cluster;
  const l = await c.leader();
  const candidates = ctx.members.filter((s) => s !== l && c.nodes[s]?.running === true);
  if (l === undefined || candidates.length === 0) {
    f.detail = "skipped: no leader or no follower to remove";
    return () => Promise.resolve();
  }
  const n = c.nodes[ctx.rng.pick(candidates)] as FaultNode;
  const client = c.client(l, 5000);
  try {
    await client.cluster().removeMember({ nodeId: BigInt(n.id) });
  } catch (err) {
    f.detail = `remove ${n.name} refused: ${err instanceof Error ? err.message.slice(0, 120) : String(err)}`;
    return () => Promise.resolve();
  } finally {
    client.close();
  }
  const old = n.name;
  await n.signal("SIGKILL");
  await c.freshDir(n.slot);
  n.generation++;
  n.name = `n${n.slot}g${n.generation}`;
  f.detail = `removed ${old} (id ${n.id}); rejoining as ${n.name}`;
  await revive(ctx, n);
  return () => Promise.resolve();
}

async function fillDisk(ctx: NemesisContext, f: FaultRecord): Promise<Heal> {
  const c = ctx.cluster;
  if (c.o.tmpfsMiB === 0) {
    f.detail = "skipped: data directories are not tmpfs";
    return () => Promise.resolve();
  }
  const n = await victim(ctx, 0.3);
  const filler = join(c.dataDir(n.slot), "filler");
  const block = Buffer.alloc(1 << 20);
  let written = 0;
  try {
    for (; written < c.o.tmpfsMiB; written++) await writeFile(filler, block, { flag: "a" });
  } catch {
    // ENOSPC: the disk is full, as intended.
  }
  f.detail = `${n.name}: data directory full (${written} MiB filler)`;
  return async () => {
    await rm(filler, { force: true });
    await revive(ctx, n);
  };
}

/** Starts one nemesis; returns its heal. */
export async function startNemesis(
  ctx: NemesisContext,
  name: NemesisName,
  holdMs: number,
): Promise<Heal> {
  const f = ctx.rec.fault(name, "");
  const done =
    (h: Heal): Heal =>
    async () => {
      await h();
      ctx.rec.end(f);
    };
  switch (name) {
    case "kill": {
      const n = await victim(ctx, 0.5);
      f.detail = `kill -9 ${n.name}`;
      await n.signal("SIGKILL");
      return done(() => revive(ctx, n));
    }
    case "pause": {
      const n = await victim(ctx, 0.5);
      f.detail = `SIGSTOP ${n.name} (> ${ctx.electionMs} ms election timeout)`;
      await n.signal("SIGSTOP");
      return done(() => n.signal("SIGCONT"));
    }
    case "partition":
      return done(await partition(ctx, f, holdMs));
    case "degrade": {
      f.detail = await ctx.cluster.net.degrade({
        delayMs: 40,
        jitterMs: 30,
        lossPct: 10,
        reorderPct: 20,
      });
      return done(async () => {
        const c = await ctx.cluster.net.shapedCounts?.();
        if (c !== undefined) f.detail += `; ${c.dropped} packets dropped, ${c.held} held`;
        await ctx.cluster.net.heal("degradation");
      });
    }
    case "membership":
      return done(await membership(ctx, f));
    case "disk":
      return done(await fillDisk(ctx, f));
  }
}

/** Whether `signal` has aborted (a call, so that narrowing does not assume it unchanged). */
export const isAborted = (signal: AbortSignal): boolean => signal.aborted;

/**
 * Runs nemeses until `signal` aborts: quiet, fault for `holdMs` (one, or with "all" sometimes
 * two at once), heal. Ends healed: every link restored, every member running.
 */
export async function runNemeses(
  ctx: NemesisContext,
  names: readonly NemesisName[],
  o: {
    holdMs: [number, number];
    quietMs: [number, number];
    combine: boolean;
    /** Keep going past the end until every nemesis has run once (short runs). */
    fullCycle?: boolean;
  },
  signal: AbortSignal,
): Promise<void> {
  let i = 0;
  const more = (): boolean => !isAborted(signal) || (o.fullCycle === true && i < names.length);
  while (more()) {
    await sleep(ctx.rng.range(...o.quietMs));
    if (!more()) break;
    // Cycle through the list first so that a short run meets every nemesis once.
    const first = i < names.length ? (names[i] as NemesisName) : ctx.rng.pick(names);
    i++;
    const chosen = [first];
    const second = ctx.rng.pick(names);
    if (o.combine && second !== first && ctx.rng.chance(0.4)) chosen.push(second);
    const hold = ctx.rng.range(...o.holdMs);
    const heals: Heal[] = [];
    for (const n of chosen) heals.push(await startNemesis(ctx, n, hold));
    await sleep(hold);
    for (const h of heals.reverse()) await h();
  }
  await healAll(ctx);
}

/** Heals everything: links, paused and dead members (bounded). */
export async function healAll(ctx: NemesisContext): Promise<void> {
  await ctx.cluster.net.heal();
  for (const s of ctx.members) await revive(ctx, ctx.cluster.nodes[s] as FaultNode);
}
