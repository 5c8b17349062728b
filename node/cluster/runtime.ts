import { Code } from "@connectrpc/connect";
import {
  None,
  RawNode,
  isRaftError,
  RaftErrorCode,
  type ConfChange,
  type Entry,
  type HardState,
  type Index,
  type Message,
  type NodeId,
  type RaftLogger,
  type RaftStatus,
  type Ready,
  type SnapMessage,
  type SnapshotMetadata,
  type SnapshotStatus,
  describeEntry,
} from "../raft/index.js";
import type { DocumentStore } from "../store/index.js";
import { noopRaftTelemetry, type RaftTelemetry } from "../telemetry/index.js";
import { decodeDoc, type ImportResult, type TxnResult } from "../store/index.js";
import { delay, type Clock, type TimerHandle } from "./clock.js";
import { decodeCommand, encodeCommand, type TxnCommand } from "./command.js";
import { ClusterError, unavailable } from "./errors.js";
import type { MemberBook } from "./members.js";
import type { ChangeSink, LogStore, SnapshotStore, Transport } from "./ports.js";
import { decodeSnapshotData, encodeSnapshotData } from "./snapshot-data.js";
import { AppliedWaiters, ProposalWaiters, ReadWaiters, untilAborted } from "./waiters.js";

/** Settings of a node runtime. Durations in milliseconds unless named ticks. */
export interface RuntimeOptions {
  readonly id: NodeId;
  readonly log: LogStore;
  readonly snapshots: SnapshotStore;
  readonly store: DocumentStore;
  readonly members: MemberBook;
  readonly sink: ChangeSink;
  readonly clock: Clock;
  readonly random: (n: number) => number;
  readonly logger: RaftLogger;
  /** Milliseconds per Raft tick. Default 100. */
  readonly tickMs?: number;
  /** Election timeout in ticks. Default 10. */
  readonly electionTick?: number;
  /** Take a snapshot (and compact) after this many applied entries. Default 10,000. */
  readonly snapshotEvery?: number;
  /** Entries kept behind a snapshot for slow followers. Default 1,000. */
  readonly snapshotTrailing?: number;
  readonly readOnlyOption?: "safe" | "leaseBased";
  /** Spans and metrics (DESIGN.md §10); default: none. */
  readonly telemetry?: RaftTelemetry;
}

/** What applying a committed entry produced, for the proposer waiting on it. */
export type ApplyOutcome = TxnResult | ImportResult;

/** The lifecycle of a runtime. */
export type RuntimeState = "created" | "running" | "stopping" | "stopped" | "failed";

/**
 * The only place Raft meets time and I/O (DESIGN.md §2): ticks, the Ready loop (persist, send,
 * apply, advance), proposals and reads waiting for the log, snapshots. Single-threaded by
 * construction: the loop never runs twice at once.
 */
export class RaftRuntime {
  readonly id: NodeId;
  readonly #o: RuntimeOptions;
  readonly #t: RaftTelemetry;
  readonly #raw: RawNode;
  #transport: Transport | undefined;
  #store: DocumentStore;
  #members: MemberBook;
  #applied: Index;
  #snapshotIndex: Index;
  #state: RuntimeState = "created";
  #failure: unknown;
  #ticker: TimerHandle | undefined;
  #running = false;
  #again = false;
  #idle: Promise<void> = Promise.resolve();
  readonly #proposals = new ProposalWaiters<ApplyOutcome>();
  readonly #confWaiters = new ProposalWaiters<Index>();
  readonly #appliedWaiters = new AppliedWaiters();
  readonly #reads: ReadWaiters;
  /** The ReadIndex round that reads arriving now join, until it is handed to Raft. */
  #readRound: { context: Uint8Array; promise: Promise<Index> } | undefined;
  readonly #listeners = new Set<() => void>();
  /** The role as of the last processed Ready (its softState), not as of now. */
  #isLeader = false;
  /** The hard state as last persisted. */
  #persisted: HardState;

  /** Creates a runtime over restored state (`store` and `members` as of `applied`). */
  constructor(o: RuntimeOptions, applied: Index) {
    this.id = o.id;
    this.#o = o;
    this.#t = o.telemetry ?? noopRaftTelemetry;
    this.#store = o.store;
    this.#members = o.members;
    this.#applied = applied;
    this.#snapshotIndex = o.snapshots.latest()?.index ?? 0;
    this.#persisted = o.log.initialState().hardState;
    // Node id and a random incarnation: no other node, nor this one before a restart, can
    // have a round with the same context pending at the leader.
    this.#reads = new ReadWaiters(`${o.id}.${o.random(0x7fffffff).toString(36)}`);
    this.#raw = new RawNode({
      id: o.id,
      storage: o.log,
      applied,
      electionTick: o.electionTick ?? 10,
      heartbeatTick: 1,
      random: o.random,
      logger: o.logger,
      maxSizePerMsg: 1 << 20,
      maxInflightMsgs: 256,
      maxUncommittedEntriesSize: 64 << 20,
      readOnlyOption: o.readOnlyOption ?? "safe",
    });
  }

  /** Seeds a brand-new cluster with this node as its only voter; `context` says who it is. */
  bootstrap(context: Uint8Array = new Uint8Array(0)): void {
    this.#raw.bootstrap([this.id], () => context);
  }

  /** Starts ticking and processing; `transport` carries messages to peers. */
  start(transport: Transport): void {
    if (this.#state !== "created")
      throw new Error(`cannot start runtime ${this.id}: it is ${this.#state}`);
    this.#transport = transport;
    transport.setMembers(this.#members);
    this.#state = "running";
    this.#ticker = this.#o.clock.every(this.#o.tickMs ?? 100, () => {
      this.#raw.tick();
      this.#schedule();
    });
    this.#schedule();
  }

  // ---- inputs ----

  /** Steps a message from a peer. */
  step(m: Message): void {
    if (this.#state !== "running") return;
    this.#raw.step(m);
    this.#t.stepped(m);
    this.#schedule();
  }

  /** Reports that a peer could not be reached. */
  reportUnreachable(id: NodeId): void {
    if (this.#state !== "running") return;
    this.#raw.reportUnreachable(id);
    this.#schedule();
  }

  /** Reports how sending a snapshot ended. */
  reportSnapshot(id: NodeId, status: SnapshotStatus): void {
    if (this.#state !== "running") return;
    this.#raw.reportSnapshot(id, status);
    this.#schedule();
  }

  /** Stores a snapshot streamed by the leader, then hands its message to Raft. */
  async receiveSnapshot(
    m: SnapMessage,
    data: AsyncIterable<Uint8Array>,
    signal?: AbortSignal,
  ): Promise<void> {
    await this.#o.snapshots.save(m.snapshot.metadata, data, signal === undefined ? {} : { signal });
    this.step(m);
  }

  /** Proposes a transaction (leader only) and resolves with its applied outcome. */
  async propose(cmd: TxnCommand, signal?: AbortSignal): Promise<ApplyOutcome> {
    this.#checkRunning("propose");
    const t = this.#t;
    const traced = t.propose(cmd.txnId, cmd.traceContext);
    const data = encodeCommand(
      traced === cmd.traceContext ? cmd : { ...cmd, traceContext: traced },
    );
    let pos;
    try {
      pos = this.#wrapDropped(() => this.#raw.propose(data), "propose transaction");
    } catch (err) {
      t.proposeFailed(err);
      throw err;
    }
    const done = this.#proposals.wait(pos.index, pos.term, signal);
    t.proposed(pos.index, pos.term, done);
    this.#schedule();
    return done;
  }

  /** Proposes a membership change (leader only) and resolves with its index once applied. */
  async proposeConfChange(cc: ConfChange, signal?: AbortSignal): Promise<Index> {
    this.#checkRunning("change membership");
    const pos = this.#wrapDropped(() => this.#raw.proposeConfChange(cc), "change membership");
    this.#schedule();
    return this.#confWaiters.wait(pos.index, pos.term, signal);
  }

  /**
   * Resolves once this node's state includes every write committed before the call (§6.4).
   * Reads that arrive in the same turn of the event loop share one ReadIndex round: the round is
   * requested only after all of them arrived, so its index covers every write acknowledged
   * before any of them began (a round already requested is never joined).
   */
  async linearizableRead(signal?: AbortSignal): Promise<Index> {
    this.#checkRunning("read");
    signal?.throwIfAborted();
    let round = this.#readRound;
    if (round === undefined) {
      const r = this.#reads.create();
      round = r;
      this.#readRound = r;
      // Readers may all give up; the round's own failure must not go unhandled.
      r.promise.catch(() => undefined);
      queueMicrotask(() => {
        this.#readRound = undefined;
        try {
          this.#wrapDropped(() => {
            this.#raw.readIndex(r.context);
          }, "read at quorum");
        } catch (err) {
          this.#reads.reject(r.context, err);
          return;
        }
        this.#schedule();
      });
    }
    const index = await untilAborted(round.promise, signal);
    await this.#appliedWaiters.wait(index, this.#applied, signal);
    return index;
  }

  /** Waits until the applied index reaches `index`. */
  waitApplied(index: Index, signal?: AbortSignal): Promise<void> {
    return this.#appliedWaiters.wait(index, this.#applied, signal);
  }

  /** Asks the leader to hand leadership to `target`. */
  transferLeader(target: NodeId): void {
    this.#checkRunning("transfer leadership");
    this.#wrapDropped(() => {
      this.#raw.transferLeader(target);
    }, "transfer leadership");
    this.#schedule();
  }

  /** Starts a campaign now (tests and operators use it to pick a leader quickly). */
  campaign(): void {
    this.#raw.campaign();
    this.#schedule();
  }

  // ---- state ----

  /** The document store as of {@link applied}. Replaced when a snapshot is installed. */
  get store(): DocumentStore {
    return this.#store;
  }

  /** The address book as of {@link applied}. */
  get members(): MemberBook {
    return this.#members;
  }

  /** The last applied index. */
  get applied(): Index {
    return this.#applied;
  }

  /** The index of the newest local snapshot. */
  get snapshotIndex(): Index {
    return this.#snapshotIndex;
  }

  /** The lifecycle state. */
  get state(): RuntimeState {
    return this.#state;
  }

  /** The Raft status (role, term, leader, progress on the leader). */
  status(): RaftStatus {
    return this.#raw.status();
  }

  /** Calls `fn` after every processed Ready (status watchers: health, auto-promotion). */
  onReady(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  // ---- the Ready loop ----

  #schedule(): void {
    if (this.#state !== "running" && this.#state !== "stopping") return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    this.#idle = this.#loop();
  }

  async #loop(): Promise<void> {
    try {
      do {
        this.#again = false;
        while (this.#raw.hasReady()) await this.#handleReady(this.#raw.ready());
      } while (this.#rescheduled());
      for (const fn of this.#listeners) fn();
    } catch (err) {
      this.#fail(err);
    } finally {
      this.#running = false;
    }
  }

  /** Whether inputs arrived while the loop was awaiting (they set `#again`). */
  #rescheduled(): boolean {
    return this.#again;
  }

  async #handleReady(rd: Ready): Promise<void> {
    // A leader may send its appends and heartbeats while it writes its own log (thesis
    // §10.2.1): it counts its own acknowledgment only once the write is done (in advance()).
    // Not when this Ready changes term or vote: a vote must be durable before anyone hears of it.
    const early =
      this.#isLeader &&
      rd.softState === undefined &&
      (rd.hardState === undefined ||
        (rd.hardState.term === this.#persisted.term && rd.hardState.vote === this.#persisted.vote));
    const later = early
      ? rd.messages.filter((m) => m.type !== "app" && m.type !== "heartbeat")
      : rd.messages;
    if (early) this.#send(rd.messages.filter((m) => m.type === "app" || m.type === "heartbeat"));
    // 1. persist: one write, synced when the core asks (term, vote or entries changed).
    const traced = this.#t.persisting(rd.entries, rd.mustSync);
    const write = this.#o.log.save(
      {
        ...(rd.hardState !== undefined ? { hardState: rd.hardState } : {}),
        entries: rd.entries,
        ...(rd.snapshot !== undefined ? { snapshot: rd.snapshot.metadata } : {}),
      },
      { sync: rd.mustSync },
    );
    if (rd.mustSync || rd.entries.length > 0 || rd.snapshot !== undefined) {
      await write;
      this.#t.persisted(traced);
    } else {
      // Only the commit index moved: nothing sent or applied depends on it being on disk (it
      // is recovered from the log), and the log store keeps writes in order. Do not wait.
      write.catch((err: unknown) => {
        this.#fail(err);
      });
    }
    const newTerm = rd.hardState !== undefined && rd.hardState.term !== this.#persisted.term;
    if (rd.hardState !== undefined) this.#persisted = rd.hardState;
    // 2. send, only now that what the messages promise is durable.
    this.#send(later);
    // 3. apply.
    if (rd.snapshot !== undefined) await this.#installSnapshot(rd.snapshot.metadata);
    if (rd.committedEntries.length > 0) this.#t.committed(rd.committedEntries);
    for (const e of rd.committedEntries) this.#apply(e);
    for (const rs of rd.readStates) this.#reads.resolve(rs.context, rs.index);
    if (rd.softState !== undefined) {
      if (this.#isLeader && rd.softState.role !== "leader") this.#lostLeadership();
      this.#isLeader = rd.softState.role === "leader";
    }
    if (rd.softState !== undefined || newTerm) {
      const st = rd.softState ?? this.#raw.status();
      this.#t.roleChanged(st.role, this.#persisted.term, "leader" in st ? st.leader : st.lead);
    }
    // 4. advance.
    this.#raw.advance();
    this.#appliedWaiters.advance(this.#applied);
    if (this.#applied - this.#snapshotIndex >= (this.#o.snapshotEvery ?? 10_000))
      await this.takeSnapshot();
  }

  #send(messages: readonly Message[]): void {
    const transport = this.#transport;
    if (transport === undefined || messages.length === 0) return;
    const plain: Message[] = [];
    for (const m of messages) {
      if (m.type !== "snap") {
        plain.push(m);
        continue;
      }
      // Send the current applied state rather than the older snapshot Raft named (etcd does
      // the same): a member added since the last snapshot must find itself in it. The data is
      // captured now, so entries applied while it streams cannot tear it.
      const started = this.#t.now();
      const { metadata, data } = this.#captureSnapshot();
      this.#t.snapshot("sent", metadata.index, byteLength(data), started);
      transport.sendSnapshot({ ...m, snapshot: { metadata, data: new Uint8Array(0) } }, data);
    }
    transport.send(plain);
    this.#t.sent(plain);
  }

  #apply(e: Entry): void {
    if (e.type === "confChange") {
      const cs = this.#raw.applyConfChange(e.change);
      this.#members.apply(e.change, cs);
      this.#transport?.setMembers(this.#members);
      this.#confWaiters.applied(e.index, e.term, () => e.index, overwritten);
      this.#t.membershipApplied(e.index, describeEntry(e));
    } else if (e.data.length > 0) {
      const cmd = decodeCommand(e.data);
      const traced = this.#t.applying(e.index, cmd.traceContext);
      let result: ApplyOutcome;
      if (cmd.import !== undefined) {
        const documents = cmd.import.documents.map((d) => decodeDoc(d));
        result = this.#store.importDocuments({
          index: e.index,
          collection: cmd.import.collection,
          documents,
        });
      } else {
        // The ops are read from the entry's BSON straight into parsed ops (store/txn-decode.ts).
        result = this.#store.applyEncodedTxn({
          index: e.index,
          txnId: cmd.txnId,
          opsBson: cmd.ops,
          timeMs: cmd.timeMs,
        });
      }
      this.#t.applied(traced, result);
      this.#o.sink.publish(e.index, result.outcome === "rejected" ? [] : result.changes);
      this.#proposals.applied(e.index, e.term, () => result, overwritten);
    } else {
      this.#o.sink.publish(e.index, []); // the leader's empty entry: resume positions advance
    }
    this.#applied = e.index;
  }

  async #installSnapshot(meta: SnapshotMetadata): Promise<void> {
    const started = this.#t.now();
    const { store, members } = await decodeSnapshotData(this.#o.snapshots.load(meta.index));
    this.#store = store;
    this.#members = members;
    this.#transport?.setMembers(members);
    this.#applied = meta.index;
    this.#snapshotIndex = meta.index;
    this.#o.sink.compactTo(meta.index);
    this.#t.snapshot("installed", meta.index, 0, started);
    this.#o.logger.info(`${this.id} installed snapshot at ${meta.index} (term ${meta.term})`);
  }

  #snapshotMetadata(): SnapshotMetadata {
    const index = this.#applied;
    return { index, term: this.#o.log.term(index), confState: this.#raw.status().config };
  }

  /** The applied state as snapshot metadata and data, captured at once (nothing can tear it). */
  #captureSnapshot(): { metadata: SnapshotMetadata; data: Uint8Array[] } {
    return {
      metadata: this.#snapshotMetadata(),
      data: [...encodeSnapshotData(this.#store, this.#members)],
    };
  }

  /** Writes a snapshot of the applied state and compacts the log behind it. */
  async takeSnapshot(signal?: AbortSignal): Promise<SnapshotMetadata> {
    if (this.#applied <= this.#snapshotIndex) return this.#snapshotMetadata();
    // Captured synchronously: applying continues while the file is written.
    const started = this.#t.now();
    const { metadata: meta, data } = this.#captureSnapshot();
    const index = meta.index;
    const opts = signal === undefined ? {} : { signal };
    await this.#o.snapshots.save(meta, data, opts);
    await this.#o.log.markSnapshot(meta, opts);
    this.#snapshotIndex = index;
    this.#t.snapshot("taken", index, byteLength(data), started);
    const compactTo = index - (this.#o.snapshotTrailing ?? 1000);
    if (compactTo >= this.#o.log.firstIndex()) await this.#o.log.compact(compactTo, opts);
    return meta;
  }

  #lostLeadership(): void {
    // Entries proposed here may still commit under the next leader; clients retry with the
    // same txn id and get the recorded outcome (idempotency table).
    const err = (): ClusterError =>
      unavailable(
        "LEADERSHIP_LOST",
        `apply transaction at node ${this.id}: leadership was lost; retry with the same txn id`,
      );
    this.#proposals.rejectAll(err);
    this.#confWaiters.rejectAll(err);
  }

  // ---- lifecycle ----

  /**
   * Stops: a leader first hands leadership to the most caught-up voter (a shutdown is not a
   * leave, DESIGN §8), then ticking stops, waiters fail with Unavailable, the loop drains.
   */
  async stop(opts: { transferTimeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    if (this.#state === "stopped" || this.#state === "stopping") return;
    if (this.#state === "running") await this.#handOff(opts.transferTimeoutMs ?? 2000, opts.signal);
    this.#state = "stopping";
    this.#ticker?.cancel();
    await this.#idle;
    const err = (): ClusterError => unavailable("STOPPING", `node ${this.id} is shutting down`);
    this.#proposals.rejectAll(err);
    this.#confWaiters.rejectAll(err);
    this.#reads.rejectAll(err);
    this.#appliedWaiters.rejectAll(err);
    await this.#transport?.close();
    this.#state = "stopped";
  }

  async #handOff(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const st = this.#raw.status();
    if (st.role !== "leader" || st.progress === undefined) return;
    let best: NodeId = None;
    let bestMatch = -1;
    for (const [id, pr] of st.progress) {
      if (id === this.id || pr.isLearner || !st.config.voters.includes(id)) continue;
      if (pr.match > bestMatch) [best, bestMatch] = [id, pr.match];
    }
    if (best === None) return;
    this.#raw.transferLeader(best);
    this.#schedule();
    const deadline = this.#o.clock.now() + timeoutMs;
    while (
      this.#raw.status().lead === this.id &&
      this.#o.clock.now() < deadline &&
      signal?.aborted !== true
    ) {
      await delay(20);
    }
  }

  /** Resolves when the runtime fails (a storage error is fatal for the node) with the cause. */
  get failure(): unknown {
    return this.#failure;
  }

  #fail(err: unknown): void {
    this.#failure = err;
    this.#state = "failed";
    this.#ticker?.cancel();
    this.#o.logger.warn(
      `${this.id} runtime failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
    const e = (): ClusterError =>
      new ClusterError(Code.Unavailable, "NODE_FAILED", `node ${this.id} failed: ${String(err)}`, {
        cause: err,
      });
    this.#proposals.rejectAll(e);
    this.#confWaiters.rejectAll(e);
    this.#reads.rejectAll(e);
    this.#appliedWaiters.rejectAll(e);
  }

  #checkRunning(action: string): void {
    if (this.#state !== "running")
      throw unavailable("NOT_RUNNING", `${action} at node ${this.id}: the node is ${this.#state}`);
  }

  #wrapDropped<T>(fn: () => T, action: string): T {
    try {
      return fn();
    } catch (err) {
      if (isRaftError(err, RaftErrorCode.ProposalDropped)) {
        const st = this.#raw.status();
        if (st.role === "leader") {
          // The leader refused it for a reason of state (a change pending, a transfer...).
          throw new ClusterError(
            Code.FailedPrecondition,
            "REFUSED",
            `${action} at node ${this.id}: ${err.message}`,
            { cause: err },
          );
        }
        throw unavailable(
          "NOT_LEADER",
          `${action} at node ${this.id}: ${err.message} (leader ${st.lead}, term ${st.term})`,
          err,
        );
      }
      throw err;
    }
  }
}

function byteLength(chunks: readonly Uint8Array[]): number {
  let n = 0;
  for (const c of chunks) n += c.length;
  return n;
}

function overwritten(): ClusterError {
  return unavailable(
    "ENTRY_OVERWRITTEN",
    "apply: the proposed entry was replaced by a new leader's log; retry with the same txn id",
  );
}
