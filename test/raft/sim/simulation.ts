import {
  isRaftError,
  RaftErrorCode,
  type ConfChange,
  type NodeId,
} from "../../../node/raft/index.js";
import { Checker, Violation } from "./checker.js";
import { SimNetwork } from "./network.js";
import { Rng } from "./rng.js";
import { scenarioFor, type Scenario } from "./scenario.js";
import { SimNode, type ReadyHooks } from "./sim-node.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const none = new Uint8Array(0);

/** The outcome of one seed. */
export interface SimResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly error?: string;
  /** Events leading to the failure (only when run with `trace`). */
  readonly trace: readonly string[];
  readonly stats: SimStats;
}

/** What happened during a run, for reports. */
export interface SimStats {
  nodes: number;
  rounds: number;
  acked: number;
  reads: number;
  leaders: number;
  crashes: number;
  partitions: number;
  confChanges: number;
  transfers: number;
  snapshots: number;
  messages: number;
  /** Rounds from healing to the first acknowledged write. */
  recoveryRounds: number;
}

interface PendingRead {
  readonly node: NodeId;
  readonly ackedBefore: number;
  readonly issued: number;
  index?: number;
}

/** Runs the simulation for `seed`; with `trace`, keeps the event log for a replay. */
export function runSeed(seed: number, opts: { trace?: boolean } = {}): SimResult {
  const sim = new Simulation(seed, opts.trace ?? false);
  try {
    sim.run();
    return { seed, ok: true, trace: [], stats: sim.stats };
  } catch (err) {
    if (!(err instanceof Violation) && !(err instanceof Error)) throw err;
    const error =
      err instanceof Violation ? `${err.name}: ${err.message}` : (err.stack ?? String(err));
    return { seed, ok: false, error, trace: sim.trace.slice(-400), stats: sim.stats };
  }
}

class Simulation {
  readonly rng: Rng;
  readonly sc: Scenario;
  readonly net: SimNetwork;
  readonly checker = new Checker();
  readonly nodes = new Map<NodeId, SimNode>();
  readonly trace: string[] = [];
  readonly #tracing: boolean;
  readonly stats: SimStats;
  #round = 0;
  #nextId = 1n;
  #writes = 0;
  #readsIssued = 0;
  readonly #proposals = new Map<string, { write: string; term: number }>();
  readonly #reads = new Map<string, PendingRead>();
  readonly #hooks: ReadyHooks;
  /** The newest conf change index applied anywhere. */
  #confIndex = 0;
  #retirements: { id: NodeId; index: number; voters: NodeId[] }[] = [];

  constructor(seed: number, tracing: boolean) {
    this.rng = new Rng(seed);
    this.sc = scenarioFor(this.rng.fork());
    this.net = new SimNetwork(this.rng.fork(), { ...this.sc.faults });
    this.#tracing = tracing;
    this.stats = {
      nodes: this.sc.nodes,
      rounds: 0,
      acked: 0,
      reads: 0,
      leaders: 0,
      crashes: 0,
      partitions: 0,
      confChanges: 0,
      transfers: 0,
      snapshots: 0,
      messages: 0,
      recoveryRounds: -1,
    };
    this.#hooks = {
      onApply: (node, e, label, hash) => {
        this.checker.onApply(node, e, label, hash);
        if (e.type === "confChange" && e.index > this.#confIndex) {
          this.#confIndex = e.index;
          this.#onConfApplied(node, e.index);
        }
        const key = `${node.id}:${e.index}`;
        const p = this.#proposals.get(key);
        if (p === undefined) return;
        this.#proposals.delete(key);
        if (p.term !== e.term) return; // overwritten: the proposal failed
        if (label !== p.write)
          throw new Violation(`entry ${e.term}/${e.index} holds "${label}", proposed "${p.write}"`);
        this.checker.onAck(p.write);
        this.stats.acked++;
      },
      onSnapshotRestored: (node, index, hash) => {
        this.log(`${node.id} restored snapshot at ${index}`);
        this.checker.onSnapshotRestored(node, index, hash);
      },
      onReadState: (node, rs) => {
        const id = decoder.decode(rs.context);
        const r = this.#reads.get(id);
        if (r?.node === node.id && r.index === undefined) r.index = rs.index;
      },
      onSoftState: () => undefined,
    };
    const founders: NodeId[] = [];
    for (let i = 0; i < this.sc.nodes; i++) founders.push(this.#nextId++);
    for (const id of founders) this.#addNode(id, founders);
  }

  log(text: string): void {
    if (this.#tracing) this.trace.push(`[${this.#round}] ${text}`);
  }

  #addNode(id: NodeId, founders?: readonly NodeId[]): SimNode {
    const rng = this.rng.fork();
    const node = new SimNode(id, { ...this.sc.settings, random: (n) => rng.int(n) }, founders);
    this.nodes.set(id, node);
    return node;
  }

  run(): void {
    const { chaosRounds, healBound } = this.sc;
    for (; this.#round < chaosRounds; this.#round++) {
      this.#chaos();
      this.#clients();
      this.#step();
    }
    this.#heal();
    const healedAt = this.#round;
    const firstWrite = this.#writes;
    let recovered = false;
    for (; this.#round < healedAt + healBound; this.#round++) {
      this.#clients();
      this.#step();
      if (this.checker.acked.some((w) => Number(w.slice(1)) >= firstWrite)) {
        recovered = true;
        break;
      }
    }
    this.stats.rounds = this.#round;
    this.stats.messages = this.net.sent;
    if (!recovered) {
      throw new Violation(
        `liveness: no write was acknowledged within ${healBound} rounds after healing (${this.#describe()})`,
      );
    }
    this.stats.recoveryRounds = this.#round - healedAt;
    this.#checkAllLogs();
  }

  #live(): SimNode[] {
    const out: SimNode[] = [];
    for (const n of this.nodes.values()) if (n.alive && !n.retired) out.push(n);
    return out;
  }

  #leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.#live()) {
      const r = n.raw.raft;
      if (r.role === "leader" && (best === undefined || r.term > best.raw.raft.term)) best = n;
    }
    return best;
  }

  #step(): void {
    for (const m of this.net.due(this.#round)) {
      const node = this.nodes.get(m.to);
      if (node === undefined || !node.alive || node.retired) continue;
      node.raw.step(m);
      this.#noteLeader(node);
    }
    for (const rep of this.net.takeReports()) {
      const sender = this.nodes.get(rep.from);
      if (sender === undefined || !sender.alive || sender.retired) continue;
      if (rep.type === "snapshot")
        sender.raw.reportSnapshot(rep.to, rep.failed ? "failure" : "finish");
      else sender.raw.reportUnreachable(rep.to);
    }
    const live = this.#live();
    for (const node of live) {
      node.raw.tick();
      this.#noteLeader(node);
    }
    for (const node of live) {
      if (node.retired) continue;
      this.net.send(this.#round + 1, node.processReady(this.#hooks));
      this.#noteLeader(node);
    }
    this.#serveReads();
    this.#retire();
    for (const node of this.#live()) this.checker.checkCommittedPrefix(node);
    if (this.#round % 25 === 0) this.#checkAllLogs();
  }

  #noteLeader(node: SimNode): void {
    const r = node.raw.raft;
    if (r.role !== "leader") return;
    if (this.#lastLeaderTerm.get(node.id) === r.term) return;
    this.#lastLeaderTerm.set(node.id, r.term);
    this.stats.leaders++;
    this.log(`${node.id} became leader at term ${r.term}`);
    this.checker.onLeader(node, r.term);
  }

  readonly #lastLeaderTerm = new Map<NodeId, number>();

  #checkAllLogs(): void {
    const live = this.#live();
    for (let i = 0; i < live.length; i++) {
      for (let j = i + 1; j < live.length; j++)
        this.checker.checkLogMatching(live[i] as SimNode, live[j] as SimNode);
    }
  }

  #serveReads(): void {
    for (const [id, r] of this.#reads) {
      const node = this.nodes.get(r.node);
      if (node === undefined || !node.alive || this.#round - r.issued > 200) {
        this.#reads.delete(id);
        continue;
      }
      if (r.index === undefined || node.sm.index < r.index) continue;
      this.checker.checkRead(node, id, r.ackedBefore, r.index);
      this.stats.reads++;
      this.#reads.delete(id);
    }
  }

  #clients(): void {
    const live = this.#live();
    if (live.length === 0) return;
    if (this.rng.chance(this.sc.pWrite)) {
      const target = (this.rng.chance(0.85) ? this.#leader() : undefined) ?? this.rng.pick(live);
      const write = `w${this.#writes++}`;
      dropped(() => {
        const pos = target.raw.propose(encoder.encode(write));
        this.#proposals.set(`${target.id}:${pos.index}`, { write, term: pos.term });
        this.log(`${target.id} proposed ${write} at ${pos.term}/${pos.index}`);
      });
    }
    if (this.rng.chance(this.sc.pRead)) {
      // Nodes that believe they lead (stale ones included) are where reads go wrong.
      const leaders = live.filter((n) => n.raw.raft.role === "leader");
      const target = this.rng.pick(leaders.length > 0 && this.rng.chance(0.5) ? leaders : live);
      const id = `r${this.#readsIssued++}`;
      const ackedBefore = this.checker.acked.length;
      dropped(() => {
        target.raw.readIndex(encoder.encode(id));
        this.#reads.set(id, { node: target.id, ackedBefore, issued: this.#round });
      });
    }
  }

  #chaos(): void {
    const sc = this.sc;
    const live = this.#live();
    if (live.length > 1 && this.rng.chance(sc.pCrash)) {
      // Leaders are the interesting victims (Raft paper Figure 8 needs leaders to crash).
      const victim = (this.rng.chance(0.5) ? this.#leader() : undefined) ?? this.rng.pick(live);
      this.#crash(victim);
    }
    for (const n of this.nodes.values()) {
      if (!n.alive && !n.retired && this.rng.chance(0.05)) {
        n.restart();
        this.log(`${n.id} restarted (commit ${n.raw.status().commit}, applied ${n.sm.index})`);
      }
    }
    if (this.rng.chance(sc.pPartition)) this.#partition();
    if (this.net.isPartitioned() && this.rng.chance(0.05)) {
      this.net.heal();
      this.log("partition healed");
    }
    const leader = this.#leader();
    if (leader !== undefined && this.rng.chance(sc.pMember)) this.#changeMembership(leader);
    if (leader !== undefined && this.rng.chance(sc.pTransfer)) {
      const target = this.rng.pick(leader.confState.voters);
      this.stats.transfers++;
      this.log(`${leader.id} transfers leadership to ${target}`);
      leader.raw.transferLeader(target);
    }
    for (const n of this.#live()) {
      const snapIndex = n.storage.snapshot().metadata.index;
      if (n.sm.index - snapIndex >= sc.snapshotEvery) {
        n.snapshotAndCompact(sc.trailing);
        this.stats.snapshots++;
      }
    }
  }

  #crash(node: SimNode): void {
    node.crash();
    this.net.dropFor(node.id);
    this.stats.crashes++;
    for (const key of this.#proposals.keys())
      if (key.startsWith(`${node.id}:`)) this.#proposals.delete(key);
    this.log(`${node.id} crashed`);
  }

  #partition(): void {
    const groups = new Map<NodeId, number>();
    const ids = [...this.nodes.keys()];
    const leader = this.#leader();
    if (leader !== undefined && this.rng.chance(0.3)) {
      groups.set(leader.id, 1);
    } else if (this.rng.chance(0.5)) {
      groups.set(this.rng.pick(ids), 1);
    } else {
      for (const id of ids) groups.set(id, this.rng.int(2));
    }
    this.net.partition(groups);
    this.stats.partitions++;
    this.log(`partition ${[...groups].map(([id, g]) => `${id}:${g}`).join(" ")}`);
  }

  #changeMembership(leader: SimNode): void {
    const cs = leader.confState;
    const joint = cs.votersOutgoing.length > 0;
    const members = [...new Set([...cs.voters, ...cs.learners, ...cs.votersOutgoing])];
    const options: (() => ConfChange)[] = [];
    const single = (type: "addNode" | "addLearner" | "removeNode", nodeId: NodeId): ConfChange => ({
      transition: "auto",
      changes: [{ type, nodeId }],
      context: none,
    });
    if (joint) {
      if (!cs.autoLeave) options.push(() => ({ transition: "auto", changes: [], context: none }));
    } else {
      if (members.length < 7) {
        options.push(() => single("addLearner", this.#addNode(this.#nextId++).id));
      }
      const learner = cs.learners[0];
      if (learner !== undefined) options.push(() => single("addNode", learner));
      if (cs.voters.length > 1) {
        options.push(() => single("removeNode", this.rng.pick(cs.voters)));
        options.push(() => single("addLearner", this.rng.pick(cs.voters)));
      }
      if (cs.learners.length > 0)
        options.push(() => single("removeNode", this.rng.pick(cs.learners)));
      if (learner !== undefined && cs.voters.length >= 2) {
        options.push(() => ({
          transition: this.rng.pick(["implicit", "explicit", "auto"] as const),
          changes: [
            { type: "addNode", nodeId: learner },
            { type: "removeNode", nodeId: this.rng.pick(cs.voters) },
          ],
          context: none,
        }));
      }
    }
    if (options.length === 0) return;
    const cc = this.rng.pick(options)();
    const desc = cc.changes.map((c) => `${c.type}:${c.nodeId}`).join(",") || "leave-joint";
    dropped(() => {
      leader.raw.proposeConfChange(cc);
      this.stats.confChanges++;
      this.log(`${leader.id} proposed conf change ${desc}`);
    });
  }

  /**
   * Schedules the retirement of nodes the newest committed configuration no longer names, as an
   * operator would: once every voter of that configuration has applied it.
   */
  #onConfApplied(node: SimNode, index: number): void {
    const cs = node.confState;
    const members = new Set([...cs.voters, ...cs.learners, ...cs.votersOutgoing]);
    const voters = [...cs.voters, ...cs.votersOutgoing];
    for (const n of this.nodes.values()) {
      if (n.retired || members.has(n.id) || !n.everMember) continue;
      this.#retirements.push({ id: n.id, index, voters });
    }
    for (const id of members) {
      const n = this.nodes.get(id);
      if (n !== undefined) n.everMember = true;
    }
  }

  #retire(): void {
    this.#retirements = this.#retirements.filter((r) => {
      const applied = r.voters.every((v) => {
        const n = this.nodes.get(v);
        return n === undefined || n.retired || n.sm.index >= r.index;
      });
      if (!applied) return true;
      const n = this.nodes.get(r.id);
      if (n !== undefined && !n.retired) {
        n.retired = true;
        this.log(`${n.id} retired: its removal at ${r.index} is applied by every voter`);
      }
      return false;
    });
  }

  #heal(): void {
    this.net.heal();
    this.net.faults = { dropRate: 0, duplicateRate: 0, maxDelay: this.sc.faults.maxDelay };
    for (const n of this.nodes.values()) if (!n.alive && !n.retired) n.restart();
    this.log("healed: all links restored, crashed nodes restarted");
  }

  #describe(): string {
    const leader = this.#leader();
    const progress =
      leader === undefined
        ? ""
        : ` progress at ${leader.id}: ${leader.raw.raft.trk
            .memberIds()
            .map((id) => `${id}=[${String(leader.raw.raft.trk.progress.get(id))}]`)
            .join(" ")}`;
    return [...this.nodes.values()]
      .filter((n) => !n.retired)
      .map((n) => {
        const s = n.raw.status();
        return `${n.id}${n.alive ? "" : "(down)"} ${s.role} t${s.term} lead=${s.lead} commit=${s.commit} last=${s.lastIndex} voters=${s.config.voters.join("/")}${s.config.votersOutgoing.length > 0 ? `&&${s.config.votersOutgoing.join("/")}` : ""}`;
      })
      .join("; ")
      .concat(progress);
  }
}

/** Runs `fn`, treating a dropped proposal or read as an expected outcome. */
function dropped(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (!isRaftError(err, RaftErrorCode.ProposalDropped)) throw err;
  }
}
