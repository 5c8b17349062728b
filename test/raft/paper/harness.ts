/**
 * A small deterministic in-process network for the paper tests: every node has a MemoryStorage,
 * every Ready is handled exactly as the contract in node/raft/types.ts asks (persist, send, apply,
 * advance), messages sit in one FIFO queue until {@link Cluster.stabilize} delivers them, and the
 * only randomness is a seeded generator injected through `random`. No timers, no sleeps.
 *
 * While it runs, the harness checks two safety properties on every Ready, so that any test can
 * catch a violation: Election Safety (at most one leader per term, Raft paper Figure 3) and State
 * Machine Safety (no two nodes apply different entries at the same index).
 */
import {
  MemoryStorage,
  RawNode,
  emptyConfState,
  type ConfChange,
  type ConfChangeSingle,
  type ConfState,
  type Entry,
  type HardState,
  type Index,
  type Message,
  type MessageType,
  type NodeId,
  type RaftConfig,
  type RandomInt,
  type ReadState,
  type Ready,
  type Snapshot,
  type SoftState,
  type Term,
} from "../../../node/raft/index.js";

/** Raft settings a test may override; id, storage and random are supplied by the harness. */
export type NodeOptions = Partial<Omit<RaftConfig, "id" | "storage" | "random">>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a string as entry data. */
export function data(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Decodes the data of a normal entry ("" for an empty entry, "cc" for a conf change). */
export function text(e: Entry): string {
  return e.type === "normal" ? decoder.decode(e.data) : "cc";
}

/** Returns a deterministic random source (mulberry32) with the `random(n)` shape Raft expects. */
export function seededRandom(seed: number): RandomInt {
  let state = seed >>> 0;
  return (n: number) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

/** A change of one member with the "auto" transition. */
export function single(type: ConfChangeSingle["type"], nodeId: NodeId): ConfChange {
  return { transition: "auto", changes: [{ type, nodeId }], context: new Uint8Array(0) };
}

/** A multi-member change (joint consensus). */
export function joint(
  transition: ConfChange["transition"],
  changes: readonly ConfChangeSingle[],
): ConfChange {
  return { transition, changes, context: new Uint8Array(0) };
}

/** The empty change that leaves a joint configuration. */
export const leaveJoint: ConfChange = {
  transition: "auto",
  changes: [],
  context: new Uint8Array(0),
};

/** One member of the cluster: its storage, its RawNode and what its state machine applied. */
export class Peer {
  readonly id: NodeId;
  readonly storage: MemoryStorage;
  readonly options: NodeOptions;
  readonly random: RandomInt;
  node: RawNode;
  /** Entries applied since the last snapshot (or since start), in order. */
  applied: Entry[] = [];
  /** Index of the last entry (or snapshot) applied to the state machine. */
  appliedIndex: Index = 0;
  /** The configuration as the application last persisted it. */
  confState: ConfState = emptyConfState;
  readStates: ReadState[] = [];
  softStates: SoftState[] = [];
  snapshotsApplied: Snapshot[] = [];
  /** Every Ready this node produced (for tests that look at the contract itself). */
  readies: Ready[] = [];

  constructor(id: NodeId, storage: MemoryStorage, options: NodeOptions, random: RandomInt) {
    this.id = id;
    this.storage = storage;
    this.options = options;
    this.random = random;
    this.node = new RawNode({ ...options, id, storage, random });
  }

  /** The data of every normal, non-empty entry applied, as strings. */
  appliedData(): string[] {
    return this.applied.filter((e) => e.type === "normal" && e.data.length > 0).map(text);
  }
}

/** How a cluster is created. */
export interface ClusterOptions {
  /** Founding voters. */
  readonly voters: readonly NodeId[];
  /** Founding learners; implies a seeded (non-bootstrapped) configuration. */
  readonly learners?: readonly NodeId[];
  /** Settings for every node (defaults: electionTick 10, heartbeatTick 1). */
  readonly config?: NodeOptions;
  /** Per-node overrides. */
  readonly perNode?: ReadonlyMap<NodeId, NodeOptions>;
  /** Seed of the random source of every node (each node gets its own stream). */
  readonly seed?: number;
  /**
   * "bootstrap" (default): RawNode.bootstrap(voters), founding conf changes are log entries 1..n;
   * "seeded": storage starts with the ConfState, the log is empty (etcd's test style).
   */
  readonly start?: "bootstrap" | "seeded";
}

/** A link filter: return false to drop the message. */
export type LinkFilter = (m: Message) => boolean;

/** The deterministic network. */
export class Cluster {
  readonly peers = new Map<NodeId, Peer>();
  /** Messages sent but not yet delivered, in send order. */
  queue: Message[] = [];
  /** Every message ever sent by any node (before filtering). */
  readonly sent: Message[] = [];
  /** Every message ever delivered (after filtering). */
  readonly delivered: Message[] = [];
  /** Messages captured by {@link hold} instead of delivered. */
  held: Message[] = [];
  readonly #cut = new Set<string>();
  readonly #filters: LinkFilter[] = [];
  #holdWhen: LinkFilter | undefined;
  readonly #seed: number;
  /** term -> the node that was leader in it (Election Safety). */
  readonly leaders = new Map<Term, NodeId>();
  /** index -> description of the entry first applied there (State Machine Safety). */
  readonly #appliedAt = new Map<Index, string>();

  constructor(opts: ClusterOptions) {
    this.#seed = opts.seed ?? 1;
    const start = opts.learners !== undefined ? "seeded" : (opts.start ?? "bootstrap");
    for (const id of opts.voters) {
      const cs: ConfState =
        start === "seeded"
          ? { ...emptyConfState, voters: [...opts.voters], learners: [...(opts.learners ?? [])] }
          : emptyConfState;
      this.#add(id, new MemoryStorage(cs), { ...opts.config, ...opts.perNode?.get(id) });
      if (start === "bootstrap") this.node(id).bootstrap(opts.voters);
    }
    for (const id of opts.learners ?? []) {
      const cs: ConfState = {
        ...emptyConfState,
        voters: [...opts.voters],
        learners: [...(opts.learners ?? [])],
      };
      this.#add(id, new MemoryStorage(cs), { ...opts.config, ...opts.perNode?.get(id) });
    }
    this.stabilize();
  }

  #add(id: NodeId, storage: MemoryStorage, options: NodeOptions): Peer {
    const p = new Peer(id, storage, options, seededRandom(this.#seed * 7919 + Number(id)));
    this.peers.set(id, p);
    return p;
  }

  /** Adds a brand-new node with empty storage (to be added to the configuration by a change). */
  addNode(id: NodeId, options: NodeOptions = {}): Peer {
    return this.#add(id, new MemoryStorage(), options);
  }

  peer(id: NodeId): Peer {
    const p = this.peers.get(id);
    if (p === undefined) throw new Error(`no peer ${id}`);
    return p;
  }

  node(id: NodeId): RawNode {
    return this.peer(id).node;
  }

  /** Simulates a crash: the RawNode and the unpersisted state are lost; storage survives. */
  restart(id: NodeId): Peer {
    const old = this.peer(id);
    const p = new Peer(id, old.storage, old.options, old.random);
    // The state machine is rebuilt from the snapshot plus the committed log.
    const snap = old.storage.snapshot();
    p.appliedIndex = snap.metadata.index;
    p.confState = snap.metadata.confState;
    this.peers.set(id, p);
    this.queue = this.queue.filter((m) => m.to !== id && m.from !== id);
    return p;
  }

  /** Handles one Ready of `p` exactly as the contract in types.ts asks. */
  handleReady(p: Peer): Ready {
    const rd = p.node.ready();
    p.readies.push(rd);
    // 1. Persist snapshot, entries and hard state.
    if (rd.snapshot !== undefined) p.storage.applySnapshot(rd.snapshot);
    p.storage.append(rd.entries);
    if (rd.hardState !== undefined) p.storage.setHardState(rd.hardState);
    // 2. Send messages (only after persisting).
    for (const m of rd.messages) {
      if (m.from !== p.id) throw new Error(`node ${p.id} sent a message from ${m.from}`);
      this.sent.push(m);
      this.queue.push(m);
    }
    // 3. Apply the snapshot, then the committed entries, in order.
    if (rd.snapshot !== undefined) {
      p.snapshotsApplied.push(rd.snapshot);
      p.applied = [];
      p.appliedIndex = rd.snapshot.metadata.index;
      p.confState = rd.snapshot.metadata.confState;
    }
    for (const e of rd.committedEntries) {
      if (e.index !== p.appliedIndex + 1) {
        throw new Error(`node ${p.id} applied ${e.index} after ${p.appliedIndex}: a gap`);
      }
      this.#checkApplied(p, e);
      if (e.type === "confChange") p.confState = p.node.applyConfChange(e.change);
      p.applied.push(e);
      p.appliedIndex = e.index;
    }
    for (const rs of rd.readStates) p.readStates.push(rs);
    if (rd.softState !== undefined) {
      p.softStates.push(rd.softState);
      if (rd.softState.role === "leader") this.#checkLeader(p);
    }
    // 4. Acknowledge.
    p.node.advance();
    return rd;
  }

  #checkApplied(p: Peer, e: Entry): void {
    const desc = `${e.term}/${e.type}/${text(e)}`;
    const prev = this.#appliedAt.get(e.index);
    if (prev === undefined) this.#appliedAt.set(e.index, desc);
    else if (prev !== desc) {
      throw new Error(
        `state machine safety: node ${p.id} applied ${desc} at ${e.index}, not ${prev}`,
      );
    }
  }

  #checkLeader(p: Peer): void {
    const term = p.node.status().term;
    const prev = this.leaders.get(term);
    if (prev !== undefined && prev !== p.id) {
      throw new Error(`election safety: ${p.id} and ${prev} both led term ${term}`);
    }
    this.leaders.set(term, p.id);
  }

  /** Handles every pending Ready of `id` without delivering messages. */
  flush(id: NodeId): void {
    const p = this.peer(id);
    while (p.node.hasReady()) this.handleReady(p);
  }

  #linkOpen(m: Message): boolean {
    if (!this.peers.has(m.to)) return false;
    if (this.#cut.has(`${m.from}>${m.to}`)) return false;
    return this.#filters.every((f) => f(m));
  }

  /** Delivers the messages queued so far (messages they trigger stay queued). */
  deliverQueued(): number {
    const msgs = this.queue;
    this.queue = [];
    for (const m of msgs) {
      if (!this.#linkOpen(m)) continue;
      if (this.#holdWhen?.(m) === true) {
        this.held.push(m);
        continue;
      }
      this.delivered.push(m);
      this.node(m.to).step(m);
    }
    return msgs.length;
  }

  /** Handles Readies and delivers messages until nothing moves. */
  stabilize(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      let moved = false;
      for (const p of this.peers.values()) {
        while (p.node.hasReady()) {
          this.handleReady(p);
          moved = true;
        }
      }
      if (this.deliverQueued() > 0) moved = true;
      if (!moved) return;
    }
    throw new Error(`the cluster did not stabilize in ${maxRounds} rounds`);
  }

  /** Ticks every node (or `ids`) `n` times, stabilizing after each tick. */
  tick(n: number, ids: readonly NodeId[] = [...this.peers.keys()]): void {
    for (let i = 0; i < n; i++) {
      for (const id of ids) this.node(id).tick();
      this.stabilize();
    }
  }

  /** Makes `id` campaign and stabilizes; returns its role afterwards. */
  campaign(id: NodeId): string {
    this.node(id).campaign();
    this.stabilize();
    return this.node(id).status().role;
  }

  /** Proposes `s` at `id` and stabilizes; returns the position. */
  propose(id: NodeId, s: string): { index: Index; term: Term } {
    const pos = this.node(id).propose(data(s));
    this.stabilize();
    return pos;
  }

  /** Proposes a conf change at `id` and stabilizes. */
  proposeConfChange(id: NodeId, cc: ConfChange): { index: Index; term: Term } {
    const pos = this.node(id).proposeConfChange(cc);
    this.stabilize();
    return pos;
  }

  /** Cuts the link between `a` and `b` in both directions. */
  cut(a: NodeId, b: NodeId): void {
    this.#cut.add(`${a}>${b}`);
    this.#cut.add(`${b}>${a}`);
  }

  /** Cuts only messages from `from` to `to`. */
  cutOneWay(from: NodeId, to: NodeId): void {
    this.#cut.add(`${from}>${to}`);
  }

  /** Cuts `id` off from every other node. */
  isolate(id: NodeId): void {
    for (const other of this.peers.keys()) if (other !== id) this.cut(id, other);
  }

  /** Drops messages matching `pred` until {@link recover}. */
  drop(pred: LinkFilter): void {
    this.#filters.push((m) => !pred(m));
  }

  /** Drops every message of the given types. */
  dropTypes(...types: MessageType[]): void {
    this.drop((m) => types.includes(m.type));
  }

  /** Drops each message with probability `p`, drawn from a seeded source. */
  dropRandomly(p: number, seed: number): void {
    const rnd = seededRandom(seed);
    this.drop(() => rnd(1_000_000) < p * 1_000_000);
  }

  /** Captures messages matching `pred` in {@link held} instead of delivering them. */
  hold(pred: LinkFilter): void {
    this.#holdWhen = pred;
  }

  /** Stops holding and queues the held messages (in order) for delivery. */
  release(): void {
    this.#holdWhen = undefined;
    this.queue.push(...this.held);
    this.held = [];
  }

  /** Heals every cut and removes every filter. */
  recover(): void {
    this.#cut.clear();
    this.#filters.length = 0;
  }

  /** Returns the single node that believes it leads the highest term, if any. */
  leader(): NodeId | undefined {
    let best: { id: NodeId; term: Term } | undefined;
    for (const p of this.peers.values()) {
      const st = p.node.status();
      if (st.role === "leader" && (best === undefined || st.term > best.term)) {
        best = { id: p.id, term: st.term };
      }
    }
    return best?.id;
  }

  /** Ticks until some node leads (bounded); returns it. */
  electLeader(maxTicks = 200): NodeId {
    for (let i = 0; i < maxTicks; i++) {
      const l = this.leader();
      if (l !== undefined && this.#allFollow(l)) return l;
      this.tick(1);
    }
    throw new Error(`no leader after ${maxTicks} ticks`);
  }

  #allFollow(l: NodeId): boolean {
    const term = this.node(l).status().term;
    for (const p of this.peers.values()) {
      const st = p.node.status();
      if (st.config.voters.length === 0) continue;
      if (st.term !== term || st.lead !== l) return false;
    }
    return true;
  }

  /** Messages sent by `from` since the mark, optionally of one type. */
  sentSince(mark: number, type?: MessageType): Message[] {
    return this.sent.slice(mark).filter((m) => type === undefined || m.type === type);
  }
}

/** The message variant that carries the type tag `T`. */
export type MessageOf<T extends MessageType, M extends Message = Message> = M extends unknown
  ? T extends M["type"]
    ? M
    : never
  : never;

/** Narrows a message to one type (throws otherwise), for assertions on its fields. */
export function as<T extends MessageType>(m: Message | undefined, type: T): MessageOf<T> {
  if (m?.type !== type) throw new Error(`expected a ${type} message, got ${m?.type ?? "none"}`);
  return m as MessageOf<T>;
}

/**
 * A lone RawNode for init/act/check tests of one rule: its Readies are handled (persisted,
 * applied, advanced) but its messages are collected in `outbox` for the test to inspect.
 */
export class Solo {
  readonly peer: Peer;
  outbox: Message[] = [];

  constructor(
    id: NodeId,
    voters: readonly NodeId[],
    opts: NodeOptions & {
      learners?: readonly NodeId[];
      random?: RandomInt;
      /** A log to start from (persisted before the node starts). */
      log?: readonly Entry[];
      /** A hard state to start from. */
      hardState?: HardState;
    } = {},
  ) {
    const { learners, random, log, hardState, ...config } = opts;
    const storage = new MemoryStorage({
      ...emptyConfState,
      voters: [...voters],
      learners: [...(learners ?? [])],
    });
    if (log !== undefined) storage.append(log);
    if (hardState !== undefined) storage.setHardState(hardState);
    this.peer = new Peer(id, storage, config, random ?? (() => 0));
  }

  get node(): RawNode {
    return this.peer.node;
  }

  get id(): NodeId {
    return this.peer.id;
  }

  /** Handles every pending Ready; returns (and clears) the messages it produced. */
  drain(): Message[] {
    const p = this.peer;
    while (p.node.hasReady()) {
      const rd = p.node.ready();
      p.readies.push(rd);
      if (rd.snapshot !== undefined) p.storage.applySnapshot(rd.snapshot);
      p.storage.append(rd.entries);
      if (rd.hardState !== undefined) p.storage.setHardState(rd.hardState);
      this.outbox.push(...rd.messages);
      if (rd.snapshot !== undefined) {
        p.snapshotsApplied.push(rd.snapshot);
        p.appliedIndex = rd.snapshot.metadata.index;
        p.confState = rd.snapshot.metadata.confState;
      }
      for (const e of rd.committedEntries) {
        if (e.type === "confChange") p.confState = p.node.applyConfChange(e.change);
        p.applied.push(e);
        p.appliedIndex = e.index;
      }
      p.readStates.push(...rd.readStates);
      if (rd.softState !== undefined) p.softStates.push(rd.softState);
      p.node.advance();
    }
    const out = this.outbox;
    this.outbox = [];
    return out;
  }

  /** Steps a message (filling group 1 and `to` = this node) and drains. */
  step(m: DistributiveOmitGroupTo<Message>): Message[] {
    this.node.step({ ...m, group: 1n, to: this.id });
    return this.drain();
  }

  /** Ticks `n` times and drains. */
  tick(n: number): Message[] {
    for (let i = 0; i < n; i++) this.node.tick();
    return this.drain();
  }

  /**
   * Makes this node leader of `term` - 1 + 1 by winning an election with votes from `grant`.
   * Returns the messages sent while doing so.
   */
  becomeLeader(grant: readonly NodeId[]): Message[] {
    this.node.campaign();
    let msgs = this.drain();
    const pre = msgs.some((m) => m.type === "preVote");
    const term = this.node.status().term + (pre ? 1 : 0);
    for (const from of grant) {
      msgs = msgs.concat(this.step(voteResp(pre ? "preVoteResp" : "voteResp", from, term, false)));
    }
    if (pre) {
      for (const from of grant) {
        msgs = msgs.concat(this.step(voteResp("voteResp", from, term, false)));
      }
    }
    if (this.node.status().role !== "leader") throw new Error(`${this.id} did not become leader`);
    return msgs;
  }
}

type DistributiveOmitGroupTo<T> = T extends unknown ? Omit<T, "group" | "to"> : never;

/** Returns a log as (term, index) pairs, for comparing logs. */
export function logOf(storage: MemoryStorage): [Term, Index][] {
  const out: [Term, Index][] = [];
  const first = storage.firstIndex();
  const last = storage.lastIndex();
  if (last < first) return out;
  for (const e of storage.entries(first, last + 1, Number.MAX_SAFE_INTEGER)) {
    out.push([e.term, e.index]);
  }
  return out;
}

/**
 * Builds a vote answer for {@link Solo.step}. Fields beyond the core four (such as commit hints a
 * responder may attach) are zero, which carries no information.
 */
export function voteResp(
  type: "voteResp" | "preVoteResp",
  from: NodeId,
  term: Term,
  reject: boolean,
): DistributiveOmitGroupTo<Message> {
  const hints = { commit: 0, commitTerm: 0 };
  return { type, from, term, reject, ...hints };
}
