/**
 * The operator's end-to-end scenario, run against any cluster through a {@link ClusterDriver}:
 * the fake API server with real node processes (test/operator/processes.test.ts) or a real
 * Kubernetes cluster (test/e2e). Create 3 members and write, scale to 5, to 3, 3 -> 5 -> 3 in
 * quick succession, to 1 and back to 3, crash a pod, wipe a pod's data directory (same PVC), wipe
 * a pod's volume (new PVC); after each step Raft
 * membership equals the spec, no acknowledged write is lost, and the status says so.
 */
import type { JuraftClient } from "../../node/client/index.js";
import type { JuraftCluster } from "../../operator/api/types.js";
import type { ObservedRaft } from "../../operator/reconcile/planner.js";
import { sleep, until } from "../process/harness.js";

/** What the scenario needs from a cluster. */
export interface ClusterDriver {
  /** The JuraftCluster's name (its pods are NAME-0, NAME-1, ...). */
  readonly name: string;
  create(replicas: number): Promise<void>;
  /** `kubectl scale juraftcluster/NAME --replicas=n` (the /scale subresource). */
  scale(replicas: number): Promise<void>;
  get(): Promise<JuraftCluster | undefined>;
  statefulSetReplicas(): Promise<number | undefined>;
  pods(): Promise<{ name: string; ready: boolean }[]>;
  pvcs(): Promise<string[]>;
  /** The Raft leader's view, through the operator's NodeAdmin. */
  raft(): Promise<ObservedRaft | undefined>;
  /** A client over every member's address (the caller closes it). */
  client(): JuraftClient;
  /** Kills a pod's container (SIGKILL); it is restarted on the same volume. */
  crash(pod: string): Promise<void>;
  /** Empties a pod's data directory and restarts its container, keeping its PVC. */
  wipeData(pod: string): Promise<void>;
  /** Deletes a pod's PVC and the pod: it comes back on an empty volume. */
  wipe(pod: string): Promise<void>;
  /** What to print when a step times out. */
  diagnostics(): Promise<string>;
}

/** Limits of one step (generous: two shared cores). */
export interface ScenarioLimits {
  readonly stepMs: number;
}

/** Writes one document at a time, remembering the acknowledged ones. */
class Writer {
  readonly acked: string[] = [];
  /** When each acknowledged write was acknowledged (for failure messages). */
  readonly ackedAt = new Map<string, string>();
  #n = 0;
  #running: Promise<void> | undefined;
  #stop = false;
  constructor(private readonly d: ClusterDriver) {}

  /** Writes `count` documents now (every one must be acknowledged). */
  async burst(count: number): Promise<void> {
    const c = this.d.client();
    try {
      for (let i = 0; i < count; i++) await this.#one(c, true);
    } finally {
      c.close();
    }
  }

  /** Keeps writing in the background until {@link stop}; failures are unacknowledged writes. */
  start(): void {
    this.#stop = false;
    this.#running = (async () => {
      const c = this.d.client();
      try {
        for (let i = 0; i < 100_000 && !this.#stop; i++) {
          await this.#one(c, false);
          await sleep(50);
        }
      } finally {
        c.close();
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stop = true;
    await this.#running;
  }

  async #one(c: JuraftClient, mustSucceed: boolean): Promise<void> {
    const id = `w${String(++this.#n)}`;
    try {
      const r = await c.apply([{ c: "e2e", _id: id, insert: { n: this.#n } }], {
        signal: AbortSignal.timeout(5000),
      });
      if (r.outcome !== "applied") throw new Error(`write ${id}: ${r.outcome}`);
      this.acked.push(id);
      this.ackedAt.set(id, new Date().toISOString());
    } catch (err) {
      if (mustSucceed) throw err;
      // Not acknowledged (a leader change or a member leaving): it may or may not be applied.
    }
  }
}

/** Records every learner seen, to check that none is removed before it became a voter. */
class MembershipWatch {
  readonly learners = new Set<string>();
  readonly voters = new Set<string>();
  readonly removedLearners: string[] = [];
  readonly targets: number[] = [];
  #last = new Set<string>();
  #stop = false;
  #running: Promise<void> | undefined;
  constructor(private readonly d: ClusterDriver) {}

  start(): void {
    this.#stop = false;
    this.#running = (async () => {
      for (let i = 0; i < 100_000 && !this.#stop; i++) {
        const r = await this.d.raft();
        const t = (await this.d.get())?.status?.targetReplicas;
        if (t !== undefined && this.targets.at(-1) !== t) this.targets.push(t);
        if (r !== undefined) {
          const now = new Set(r.members.map((m) => m.id));
          for (const m of r.members) (m.role === "learner" ? this.learners : this.voters).add(m.id);
          for (const id of this.#last)
            if (!now.has(id) && this.learners.has(id) && !this.voters.has(id))
              this.removedLearners.push(id);
          this.#last = now;
        }
        await sleep(100);
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stop = true;
    await this.#running;
  }
}

const names = (prefix: string, n: number): string[] =>
  Array.from({ length: n }, (_, o) => `${prefix}-${String(o)}`);

/** Waits until everything agrees on `n` members, then checks every acknowledged write. */
async function settled(d: ClusterDriver, n: number, w: Writer, limits: ScenarioLimits) {
  const want = names(d.name, n);
  let last = "";
  try {
    await until(
      `${String(n)} members`,
      async () => {
        const c = await d.get();
        const s = c?.status;
        const raft = await d.raft();
        const pods = await d.pods();
        const pvcs = await d.pvcs();
        const sts = await d.statefulSetReplicas();
        const cond = Object.fromEntries((s?.conditions ?? []).map((x) => [x.type, x.status]));
        last = JSON.stringify({ status: s, raft, pods, pvcs, sts });
        return (
          c?.spec.replicas === n &&
          s?.targetReplicas === n &&
          s.observedGeneration === c.metadata.generation &&
          s.replicas === n &&
          s.readyReplicas === n &&
          JSON.stringify(s.members?.map((m) => `${m.name}:${m.role}:${String(m.caughtUp)}`)) ===
            JSON.stringify(want.map((p) => `${p}:voter:true`)) &&
          s.leader !== undefined &&
          cond["Available"] === "True" &&
          cond["Progressing"] === "False" &&
          cond["Degraded"] === "False" &&
          raft !== undefined &&
          !raft.joint &&
          JSON.stringify(raft.members.map((m) => `${m.name}:${m.role}`).sort()) ===
            JSON.stringify(want.map((p) => `${p}:voter`)) &&
          JSON.stringify(raft.members.map((m) => m.id).sort()) ===
            JSON.stringify((s.members ?? []).map((m) => m.id).sort()) &&
          sts === n &&
          JSON.stringify(pods.map((p) => p.name).sort()) === JSON.stringify(want) &&
          pods.every((p) => p.ready) &&
          JSON.stringify(pvcs.sort()) === JSON.stringify(want.map((p) => `data-${p}`))
        );
      },
      limits.stepMs,
      250,
    );
  } catch (err) {
    throw new Error(`${String(err)}\nlast observation: ${last}\n${await d.diagnostics()}`, {
      cause: err,
    });
  }
  // No acknowledged write is lost: a quorum read of the collection has every one.
  // Writes acknowledged before the read starts must be visible (the writer keeps going).
  const acked = [...w.acked];
  const c = d.client();
  try {
    const docs = await c.find("e2e", { consistency: "quorum" });
    const have = new Set(docs.docs.map((doc) => doc.get("_id")));
    const lost = acked.filter((id) => !have.has(id));
    if (lost.length > 0)
      throw new Error(
        `acknowledged writes lost: ${lost.map((id) => `${id} at ${String(w.ackedAt.get(id))}`).join(", ")}\n${await d.diagnostics()}`,
      );
  } finally {
    c.close();
  }
}

/** One step's outcome, for the caller's log. */
export interface StepResult {
  readonly step: string;
  readonly ms: number;
  readonly acked: number;
}

/** A step runner: act, keep writing until everything agrees on n members, check the writes. */
function stepper(d: ClusterDriver, w: Writer, limits: ScenarioLimits, results: StepResult[]) {
  return async (label: string, n: number, act: () => Promise<void>): Promise<void> => {
    const t0 = Date.now();
    await act();
    w.start();
    try {
      await settled(d, n, w, limits);
    } finally {
      await w.stop();
    }
    results.push({ step: label, ms: Date.now() - t0, acked: w.acked.length });
  };
}

/** Creates the cluster at `sizes[0]` and scales it through the rest, checking every step. */
export async function runSizes(
  d: ClusterDriver,
  sizes: readonly number[],
  limits: ScenarioLimits,
): Promise<StepResult[]> {
  const w = new Writer(d);
  const results: StepResult[] = [];
  const step = stepper(d, w, limits, results);
  let last: number | undefined;
  for (const n of sizes) {
    const from = last;
    await step(from === undefined ? `create ${n}` : `scale ${from} -> ${n}`, n, () =>
      from === undefined ? d.create(n) : d.scale(n),
    );
    if (from === undefined) await w.burst(10);
    last = n;
  }
  return results;
}

/** Runs the whole scenario; throws on the first violation. */
export async function runScenario(d: ClusterDriver, limits: ScenarioLimits): Promise<StepResult[]> {
  const w = new Writer(d);
  const results: StepResult[] = [];
  const step = stepper(d, w, limits, results);

  await step("create 3", 3, () => d.create(3));
  await w.burst(20);
  const firstId = (await d.get())?.status?.clusterId;
  await step("scale 3 -> 5", 5, () => d.scale(5));
  await step("scale 5 -> 3", 3, () => d.scale(3));

  // 3 -> 5 -> 3 typed quickly: the first learner is added before 3 arrives; it must be promoted
  // (the latched 5 is reached) before anything is removed.
  const watch = new MembershipWatch(d);
  watch.start();
  await step("scale 3 -> 5 -> 3", 3, async () => {
    await d.scale(5);
    await until(
      "a learner is added",
      async () => (await d.raft())?.members.some((m) => m.role === "learner") === true,
      limits.stepMs,
      50,
    );
    await d.scale(3);
  });
  await watch.stop();
  if (watch.removedLearners.length > 0)
    throw new Error(`half-added members removed: ${watch.removedLearners.join(",")}`);
  if (JSON.stringify(watch.targets.slice(-2)) !== JSON.stringify([5, 3]))
    throw new Error(`the latched size went ${watch.targets.join(" -> ")}, expected ... 5 -> 3`);
  if (watch.voters.size < 5) throw new Error(`only ${String(watch.voters.size)} voters were seen`);

  await step("scale 3 -> 1", 1, () => d.scale(1));
  await step("scale 1 -> 3", 3, () => d.scale(3));

  // A crashed container restarts on its volume with its identity.
  const before = (await d.get())?.status?.members ?? [];
  const leader = (await d.get())?.status?.leader ?? `${d.name}-0`;
  await step(`crash ${leader}`, 3, () => d.crash(leader));
  const afterCrash = (await d.get())?.status?.members ?? [];
  if (JSON.stringify(afterCrash.map((m) => m.id)) !== JSON.stringify(before.map((m) => m.id)))
    throw new Error("a crashed member came back with another id");

  // A data directory wiped under the same PVC (the leader's): the node is refused its name, the
  // old member is removed and the pod rejoins with a new id.
  const wipedLeader = (await d.get())?.status?.leader ?? `${d.name}-2`;
  const leaderId = afterCrash.find((m) => m.name === wipedLeader)?.id;
  const idOf = async (pod: string): Promise<string | undefined> =>
    (await d.get())?.status?.members?.find((m) => m.name === pod)?.id;
  await step(`wipe data of ${wipedLeader}`, 3, async () => {
    await d.wipeData(wipedLeader);
    // The status still shows the old member until the operator has seen the refusal.
    await until(
      `${wipedLeader} replaced`,
      async () => (await idOf(wipedLeader)) !== leaderId,
      limits.stepMs,
      100,
    );
  });
  const afterData = (await d.get())?.status?.members ?? [];
  const rejoinedId = afterData.find((m) => m.name === wipedLeader)?.id;
  if (leaderId === undefined || rejoinedId === undefined || rejoinedId === leaderId)
    throw new Error(
      `${wipedLeader} should rejoin with a new id (was ${String(leaderId)}, now ${String(rejoinedId)})\n${await d.diagnostics()}`,
    );

  // A wiped volume: the old member is removed and the pod rejoins with a new id.
  const victim = `${d.name}-1`;
  const oldId = afterData.find((m) => m.name === victim)?.id;
  await step(`wipe ${victim}`, 3, () => d.wipe(victim));
  const afterWipe = (await d.get())?.status;
  const newId = afterWipe?.members?.find((m) => m.name === victim)?.id;
  if (oldId === undefined || newId === undefined || newId === oldId)
    throw new Error(
      `${victim} should rejoin with a new id (was ${String(oldId)}, now ${String(newId)})`,
    );
  if (afterWipe?.clusterId !== firstId) throw new Error("the cluster id changed");
  return results;
}
