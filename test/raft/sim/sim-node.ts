import {
  MemoryStorage,
  RawNode,
  type ConfState,
  type Entry,
  type Index,
  type Message,
  type NodeId,
  type RaftConfig,
  type ReadState,
  type SoftState,
} from "../../../node/raft/index.js";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** The replicated state machine of the simulation: a hash chain and the set of applied writes. */
export interface SmState {
  index: Index;
  hash: number;
  writes: Set<string>;
}

/** What the simulation learns while a node handles its Ready. */
export interface ReadyHooks {
  onApply(node: SimNode, entry: Entry, label: string, hash: number): void;
  onSnapshotRestored(node: SimNode, index: Index, hash: number): void;
  onReadState(node: SimNode, rs: ReadState): void;
  onSoftState(node: SimNode, ss: SoftState): void;
}

/** Returns the label the state machine hashes for an entry. */
export function entryLabel(e: Entry): string {
  if (e.type === "normal") return decoder.decode(e.data);
  const parts = e.change.changes.map((c) => `${c.type}:${c.nodeId}`);
  return `cc[${e.change.transition}](${parts.join(",")})`;
}

/** Chains `label` into `hash` (FNV-1a over the label, seeded by the previous hash). */
export function chainHash(hash: number, label: string): number {
  let h = (hash ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function encodeSm(sm: SmState): Uint8Array {
  return encoder.encode(JSON.stringify({ index: sm.index, hash: sm.hash, writes: [...sm.writes] }));
}

function decodeSm(data: Uint8Array): SmState {
  if (data.length === 0) return { index: 0, hash: 0, writes: new Set() };
  const parsed = JSON.parse(decoder.decode(data)) as {
    index: number;
    hash: number;
    writes: string[];
  };
  return { index: parsed.index, hash: parsed.hash, writes: new Set(parsed.writes) };
}

/** Raft settings shared by every node of one simulated cluster. */
export type NodeSettings = Omit<RaftConfig, "id" | "storage" | "applied">;

/** One simulated member: a RawNode over a MemoryStorage that survives crashes. */
export class SimNode {
  readonly id: NodeId;
  readonly storage = new MemoryStorage();
  raw: RawNode;
  alive = true;
  /** Shut down for good (removed from the cluster). */
  retired = false;
  /** Whether a committed configuration ever named this node. */
  everMember = false;
  sm: SmState = { index: 0, hash: 0, writes: new Set() };
  /** The configuration as of `sm.index` (persisted with snapshots). */
  confState: ConfState;
  readonly #settings: NodeSettings;

  /** Creates a node; founders are bootstrapped with the initial voters. */
  constructor(id: NodeId, settings: NodeSettings, founders?: readonly NodeId[]) {
    this.id = id;
    this.#settings = settings;
    this.raw = new RawNode({ ...settings, id, storage: this.storage });
    if (founders !== undefined) this.raw.bootstrap(founders);
    this.confState = this.raw.status().config;
  }

  /** Loses all volatile state; only the storage survives. */
  crash(): void {
    this.alive = false;
  }

  /** Restarts from storage: the state machine from the snapshot, the log replayed after it. */
  restart(): void {
    const snap = this.storage.snapshot();
    this.sm = decodeSm(snap.data);
    this.confState = snap.metadata.confState;
    this.raw = new RawNode({
      ...this.#settings,
      id: this.id,
      storage: this.storage,
      applied: snap.metadata.index,
    });
    this.alive = true;
  }

  /** Handles every Ready per the contract and returns the messages to send. */
  processReady(hooks: ReadyHooks): Message[] {
    const out: Message[] = [];
    while (this.raw.hasReady()) {
      const rd = this.raw.ready();
      // 1. persist
      if (rd.snapshot !== undefined) this.storage.applySnapshot(rd.snapshot);
      this.storage.append(rd.entries);
      if (rd.hardState !== undefined) this.storage.setHardState(rd.hardState);
      // 2. send
      for (const m of rd.messages) out.push(m);
      // 3. apply
      if (rd.snapshot !== undefined) {
        this.sm = decodeSm(rd.snapshot.data);
        this.confState = rd.snapshot.metadata.confState;
        hooks.onSnapshotRestored(this, rd.snapshot.metadata.index, this.sm.hash);
      }
      for (const e of rd.committedEntries) this.#apply(e, hooks);
      this.#refreshSnapshots(out);
      for (const rs of rd.readStates) hooks.onReadState(this, rs);
      if (rd.softState !== undefined) hooks.onSoftState(this, rd.softState);
      // 4. advance
      this.raw.advance();
    }
    return out;
  }

  /**
   * Like etcd's server, the transport sends the sender's current applied state rather than the
   * possibly older snapshot Raft named: a member added after that snapshot must find itself in
   * the snapshot's configuration, or it would refuse it.
   */
  #refreshSnapshots(out: Message[]): void {
    for (let i = 0; i < out.length; i++) {
      const m = out[i] as Message;
      if (m.type !== "snap" || this.sm.index <= m.snapshot.metadata.index) continue;
      const term = this.raw.raft.raftLog.term(this.sm.index);
      const metadata = { index: this.sm.index, term, confState: this.confState };
      out[i] = { ...m, snapshot: { metadata, data: encodeSm(this.sm) } };
    }
  }

  #apply(e: Entry, hooks: ReadyHooks): void {
    if (e.index !== this.sm.index + 1) {
      throw new Error(
        `node ${this.id} applies ${e.index} after ${this.sm.index}: gap in applied entries`,
      );
    }
    const label = entryLabel(e);
    if (e.type === "confChange") {
      this.confState = this.raw.applyConfChange(e.change);
    } else if (label !== "") {
      this.sm.writes.add(label);
    }
    this.sm.hash = chainHash(this.sm.hash, label);
    this.sm.index = e.index;
    hooks.onApply(this, e, label, this.sm.hash);
  }

  /** Takes a snapshot at the applied index and compacts the log, keeping `trailing` entries. */
  snapshotAndCompact(trailing: number): void {
    const snapIndex = this.storage.snapshot().metadata.index;
    if (this.sm.index <= snapIndex || this.sm.index > this.storage.lastIndex()) return;
    this.storage.createSnapshot(this.sm.index, this.confState, encodeSm(this.sm));
    const compactTo = this.sm.index - trailing;
    if (compactTo > this.storage.firstIndex()) this.storage.compact(compactTo);
  }

  /** Returns whether this node is in its own latest applied configuration. */
  isMember(): boolean {
    const cs = this.confState;
    return [...cs.voters, ...cs.learners, ...cs.votersOutgoing].includes(this.id);
  }
}
