import { resolveConfig, type RaftConfig, type ResolvedRaftConfig } from "./config.js";
import { Changer, initialNext, restoreConfig } from "./confchange/index.js";
import { entriesSize } from "./entry.js";
import { InvariantError, RaftError, RaftErrorCode, invariant } from "./errors.js";
import { RaftLog } from "./log.js";
import { releasePendingReadIndex } from "./raft-reads.js";
import { ReadOnly, type ReadIndexRequest } from "./read-only.js";
import { Progress, ProgressTracker, describeConfig } from "./tracker/index.js";
import {
  None,
  type ConfChange,
  type Entry,
  type Index,
  type Message,
  type NodeId,
  type ReadState,
  type Role,
  type Snapshot,
  type Term,
} from "./types.js";

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A message as the core builds it: group, sender and (by default) term are filled in by `send`. */
export type OutboundMessage = DistributiveOmit<Message, "group" | "from" | "term"> & {
  term?: Term;
};

/** Why a campaign starts. */
export type CampaignType = "preElection" | "election" | "transfer";

/** Where an accepted proposal landed in the log. */
export interface ProposalPosition {
  readonly index: Index;
  readonly term: Term;
}

/**
 * The Raft state machine of one node (Raft paper §5, thesis chapters 3, 4, 6, 9).
 * @internal Use {@link RawNode}; role handlers live in step-*.ts.
 */
export class Raft {
  readonly id: NodeId;
  readonly cfg: ResolvedRaftConfig;
  term: Term = 0;
  vote: NodeId = None;
  role: Role = "follower";
  lead: NodeId = None;
  readonly raftLog: RaftLog;
  trk: ProgressTracker;
  /** Messages produced since the last Ready. */
  msgs: Message[] = [];
  readStates: ReadState[] = [];
  /** The node leadership is being transferred to (thesis §3.10), or None. */
  leadTransferee: NodeId = None;
  /** A conf change may be proposed only once the entry at this index is applied. */
  pendingConfIndex: Index = 0;
  /** Bytes of uncommitted entry payloads on the leader. */
  uncommittedSize = 0;
  readOnly: ReadOnly;
  /** Reads that arrived before the leader committed an entry of its term (thesis §6.4 step 1). */
  pendingReadIndex: ReadIndexRequest[] = [];
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  /**
   * When this leader applied its own removal (a tick), and the commit index then; undefined
   * while it is a member. See {@link maybeFinishLeaving}.
   */
  leavingAt: number | undefined;
  leavingIndex: Index = 0;
  /** Ticks since this node started; the leader's clock for read leases. */
  tickCount = 0;
  isLearner = false;

  /** Creates a node from its configuration and the state in its storage. */
  constructor(config: RaftConfig) {
    this.cfg = resolveConfig(config);
    this.id = this.cfg.id;
    this.raftLog = new RaftLog(this.cfg.storage);
    const { hardState, confState } = this.cfg.storage.initialState();
    const restored = restoreConfig(confState, (l) => this.newProgress(l));
    this.trk = new ProgressTracker(restored.config, restored.progress);
    this.isLearner = this.trk.progress.get(this.id)?.isLearner ?? false;
    this.readOnly = new ReadOnly(this.cfg.readOnlyOption);
    if (hardState.term !== 0 || hardState.commit !== 0) {
      invariant(
        hardState.commit >= this.raftLog.committed && hardState.commit <= this.raftLog.lastIndex(),
        () =>
          `hard state commit ${hardState.commit} is out of range [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]`,
      );
      this.raftLog.committed = hardState.commit;
      this.term = hardState.term;
      this.vote = hardState.vote;
    }
    if (this.cfg.applied !== undefined && this.cfg.applied > 0)
      this.raftLog.appliedTo(this.cfg.applied);
    this.becomeFollower(this.term, None);
    this.cfg.logger.info(
      `${this.id} started [${describeConfig(this.trk.config)}, term: ${this.term}, commit: ${this.raftLog.committed}, applied: ${this.raftLog.applied}, lastindex: ${this.raftLog.lastIndex()}, lastterm: ${this.raftLog.lastTerm()}]`,
    );
  }

  /** Creates the progress of a member added now. */
  newProgress(isLearner: boolean): Progress {
    return new Progress({
      match: 0,
      next: initialNext(this.raftLog.lastIndex()),
      isLearner,
      maxInflight: this.cfg.maxInflightMsgs,
      maxInflightBytes: this.cfg.maxInflightBytes,
    });
  }

  /** Queues a message, filling group, sender and term. */
  send(m: OutboundMessage): void {
    // ReadIndex and transfer requests are forwarded local requests: they carry no term (etcd).
    const noTerm = m.type === "readIndex" || m.type === "transferLeader";
    const term = m.term ?? (noTerm ? 0 : this.term);
    // Callers pass fresh literals, so fill them in place (a spread copy costs a third of the
    // time of a replication round in bench:raft).
    const full = Object.assign(m, { group: this.cfg.group, from: this.id, term }) as Message;
    invariant(full.to !== this.id, () => `${this.id} cannot send ${full.type} to itself`);
    this.msgs.push(full);
  }

  // ---- timers (thesis §3.4, §6.2) ----

  /** Advances time by one tick. */
  tick(): void {
    this.tickCount++;
    if (this.role === "leader") this.#tickHeartbeat();
    else this.#tickElection();
  }

  #tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(this.cfg.preVote ? "preElection" : "election");
    }
  }

  #tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTick) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum) this.#checkQuorum();
      // A transfer that did not finish within an election timeout is abandoned (thesis §3.10).
      if (this.role === "leader" && this.leadTransferee !== None) this.abortLeaderTransfer();
    }
    if (this.role !== "leader") return;
    if (this.leavingAt !== undefined && this.tickCount - this.leavingAt >= this.cfg.electionTick) {
      this.cfg.logger.warn(
        `${this.id} stepped down: removed from the configuration an election timeout ago`,
      );
      this.becomeFollower(this.term, None);
      return;
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatTick) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat();
    }
  }

  #checkQuorum(): void {
    if (!this.trk.quorumActive(this.id)) {
      this.cfg.logger.warn(`${this.id} stepped down to follower since quorum is not active`);
      this.becomeFollower(this.term, None);
      return;
    }
    for (const [id, pr] of this.trk.progress) if (id !== this.id) pr.recentActive = false;
  }

  /** Returns whether this node may campaign: a voter of the current configuration. */
  promotable(): boolean {
    const pr = this.trk.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && this.raftLog.unstable.snapshot === undefined;
  }

  /** Returns whether election timeout has passed (used by tests). */
  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.cfg.electionTick + this.cfg.random(this.cfg.electionTick);
  }

  // ---- role transitions (Raft paper Figure 4) ----

  #reset(term: Term): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = None;
    }
    this.lead = None;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.trk.resetVotes();
    const last = this.raftLog.lastIndex();
    for (const [id, pr] of this.trk.progress) {
      pr.match = id === this.id ? this.raftLog.persistedLastIndex() : 0;
      pr.next = last + 1;
      pr.state = "probe";
      pr.pendingSnapshot = 0;
      pr.msgAppFlowPaused = false;
      pr.recentActive = id === this.id;
      pr.ackedHeartbeatTick = Number.NEGATIVE_INFINITY;
      pr.inflights.reset();
    }
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    this.leavingAt = undefined;
    this.readOnly = new ReadOnly(this.cfg.readOnlyOption);
    this.pendingReadIndex = [];
  }

  /** Becomes a follower of `lead` (None if unknown) in `term`. */
  becomeFollower(term: Term, lead: NodeId): void {
    this.#reset(term);
    this.lead = lead;
    this.role = "follower";
    this.cfg.logger.info(`${this.id} became follower at term ${this.term}`);
  }

  /** Becomes a pre-candidate: asks for pre-votes without changing term or vote (thesis §9.6). */
  becomePreCandidate(): void {
    if (this.role === "leader")
      throw new InvariantError("invalid transition [leader -> pre-candidate]");
    this.trk.resetVotes();
    this.lead = None;
    this.role = "preCandidate";
    this.cfg.logger.info(`${this.id} became pre-candidate at term ${this.term}`);
  }

  /** Becomes a candidate in the next term, voting for itself (Raft paper §5.2). */
  becomeCandidate(): void {
    if (this.role === "leader")
      throw new InvariantError("invalid transition [leader -> candidate]");
    this.#reset(this.term + 1);
    this.vote = this.id;
    this.role = "candidate";
    this.cfg.logger.info(`${this.id} became candidate at term ${this.term}`);
  }

  /** Becomes leader and appends an empty entry of its term (thesis §6.4: commit one to learn). */
  becomeLeader(): void {
    if (this.role === "follower")
      throw new InvariantError("invalid transition [follower -> leader]");
    this.#reset(this.term);
    this.lead = this.id;
    this.role = "leader";
    const self = this.trk.progress.get(this.id);
    if (self !== undefined) {
      self.becomeReplicate();
      self.recentActive = true;
    }
    // Conservatively, a conf change may only be proposed after everything up to here applied.
    this.pendingConfIndex = this.raftLog.lastIndex();
    const ok = this.appendEntry([
      { type: "normal", term: this.term, index: 0, data: new Uint8Array(0) },
    ]);
    invariant(ok, "the empty leader entry was refused");
    // The empty entry does not count against the uncommitted limit.
    this.uncommittedSize = 0;
    this.cfg.logger.info(`${this.id} became leader at term ${this.term}`);
  }

  // ---- elections (Raft paper §5.2, thesis §9.6) ----

  /** Starts a campaign if this node may; a conf change awaiting application blocks it. */
  hup(type: CampaignType): void {
    if (this.role === "leader") return;
    if (!this.promotable()) {
      this.cfg.logger.warn(`${this.id} is unpromotable and can not campaign`);
      return;
    }
    if (this.#hasUnappliedConfChanges()) {
      this.cfg.logger.warn(
        `${this.id} cannot campaign at term ${this.term} since there are still pending configuration changes to apply`,
      );
      return;
    }
    this.cfg.logger.info(`${this.id} is starting a new election at term ${this.term}`);
    this.campaign(type);
  }

  #hasUnappliedConfChanges(): boolean {
    const log = this.raftLog;
    if (log.applied >= log.committed) return false;
    const lo = Math.max(log.applied + 1, log.firstIndex());
    if (lo > log.committed) return false;
    for (const e of log.slice(lo, log.committed + 1, Number.MAX_SAFE_INTEGER)) {
      if (e.type === "confChange") return true;
    }
    return false;
  }

  /** Campaigns: pre-vote round, real election, or transfer election (skips pre-vote). */
  campaign(type: CampaignType): void {
    let term: Term;
    let voteType: "vote" | "preVote";
    if (type === "preElection") {
      this.becomePreCandidate();
      voteType = "preVote";
      term = this.term + 1; // the term it would campaign in; its own term is unchanged
    } else {
      this.becomeCandidate();
      voteType = "vote";
      term = this.term;
    }
    const respType = voteType === "vote" ? "voteResp" : "preVoteResp";
    if (this.poll(this.id, respType, true) === "won") {
      // A single-voter configuration wins at once.
      if (type === "preElection") this.campaign("election");
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.raftLog.lastIndex();
    const logTerm = this.raftLog.lastTerm();
    for (const id of this.trk.voterIds()) {
      if (id === this.id) continue;
      this.cfg.logger.info(
        `${this.id} [logterm: ${logTerm}, index: ${lastIndex}] sent ${voteType} request to ${id} at term ${this.term}`,
      );
      this.send({
        type: voteType,
        to: id,
        term,
        index: lastIndex,
        logTerm,
        transfer: type === "transfer",
      });
    }
  }

  /** Records a vote and returns the election result so far. */
  poll(id: NodeId, type: "voteResp" | "preVoteResp", granted: boolean): "pending" | "lost" | "won" {
    this.cfg.logger.info(
      `${this.id} received ${type} ${granted ? "" : "rejection "}from ${id} at term ${this.term}`,
    );
    this.trk.recordVote(id, granted);
    return this.trk.tallyVotes().result;
  }

  // ---- replication (Raft paper §5.3) ----

  /** Appends entries proposed on the leader; false if the uncommitted limit refuses them. */
  appendEntry(es: readonly Entry[]): boolean {
    let index = this.raftLog.lastIndex();
    const stamped = es.map((e) => ({ ...e, term: this.term, index: ++index }));
    if (!this.#increaseUncommittedSize(stamped)) {
      this.cfg.logger.warn(
        `${this.id} appending new entries to log would exceed uncommitted entry size limit; dropping proposal`,
      );
      return false;
    }
    this.raftLog.append(stamped);
    return true;
  }

  #increaseUncommittedSize(es: readonly Entry[]): boolean {
    const size = payloadSize(es);
    const max = this.cfg.maxUncommittedEntriesSize;
    if (max > 0 && this.uncommittedSize > 0 && size > 0 && this.uncommittedSize + size > max)
      return false;
    this.uncommittedSize += size;
    return true;
  }

  /** Accounts for committed entries handed to the application. */
  reduceUncommittedSize(es: readonly Entry[]): void {
    if (this.uncommittedSize === 0) return;
    this.uncommittedSize = Math.max(0, this.uncommittedSize - payloadSize(es));
  }

  /**
   * Sends an append to `to` if flow control allows; an empty one only if `sendIfEmpty`.
   * Falls back to a snapshot when the needed entries were compacted. Returns whether it sent.
   */
  maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.trk.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    let prevTerm: Term;
    let ents: readonly Entry[];
    try {
      prevTerm = this.raftLog.term(prevIndex);
      ents = this.raftLog.entries(pr.next, this.cfg.maxSizePerMsg);
    } catch (err) {
      if (err instanceof RaftError && err.code === RaftErrorCode.Compacted)
        return this.#maybeSendSnapshot(to, pr);
      throw err;
    }
    if (ents.length === 0 && !sendIfEmpty) return false;
    this.send({
      type: "app",
      to,
      index: prevIndex,
      logTerm: prevTerm,
      entries: ents,
      commit: this.raftLog.committed,
    });
    const last = ents[ents.length - 1];
    if (last !== undefined) pr.sentEntries(ents.length, last.index, entriesSize(ents));
    return true;
  }

  #maybeSendSnapshot(to: NodeId, pr: Progress): boolean {
    if (!pr.recentActive) {
      this.cfg.logger.debug(
        `${this.id} ignored sending snapshot to ${to} since it is not recently active`,
      );
      return false;
    }
    let snapshot: Snapshot;
    try {
      snapshot = this.raftLog.snapshot();
    } catch (err) {
      if (err instanceof RaftError && err.code === RaftErrorCode.SnapshotTemporarilyUnavailable) {
        this.cfg.logger.debug(
          `${this.id} failed to send snapshot to ${to} because snapshot is temporarily unavailable`,
        );
        return false;
      }
      throw err;
    }
    invariant(snapshot.metadata.index > 0, "need a non-empty snapshot to send");
    this.cfg.logger.info(
      `${this.id} [firstindex: ${this.raftLog.firstIndex()}, commit: ${this.raftLog.committed}] sent snapshot[index: ${snapshot.metadata.index}, term: ${snapshot.metadata.term}] to ${to} [${pr.toString()}]`,
    );
    pr.becomeSnapshot(snapshot.metadata.index);
    this.send({ type: "snap", to, snapshot });
    return true;
  }

  /** Sends appends (possibly empty probes) to every other member. */
  bcastAppend(): void {
    for (const id of this.trk.memberIds()) if (id !== this.id) this.maybeSendAppend(id, true);
  }

  /** Sends heartbeats to every other member, carrying the newest pending ReadIndex context. */
  bcastHeartbeat(context: Uint8Array = this.readOnly.lastPendingRequestContext()): void {
    for (const id of this.trk.memberIds()) {
      if (id === this.id) continue;
      const pr = this.trk.progress.get(id) as Progress;
      // Never tell a follower to commit beyond what it is known to have (§5.3).
      const commit = Math.min(pr.match, this.raftLog.committed);
      this.send({ type: "heartbeat", to: id, commit, context, sentTick: this.tickCount });
    }
  }

  /** Advances commit from the followers' match indexes; true if it moved. */
  maybeCommit(): boolean {
    return this.raftLog.maybeCommit(this.trk.committed(), this.term);
  }

  /** Returns whether the leader has committed an entry of its own term (thesis §6.4). */
  committedEntryInCurrentTerm(): boolean {
    return this.raftLog.zeroTermOnOutOfBounds(this.raftLog.committed) === this.term;
  }

  /** Called when entries up to (index, term) are durable; the leader counts its own ack. */
  onPersisted(index: Index, term: Term): void {
    if (!this.raftLog.stableTo(index, term)) return;
    if (this.role !== "leader") return;
    const self = this.trk.progress.get(this.id);
    if (
      self?.maybeUpdate(Math.min(index, this.raftLog.persistedLastIndex())) === true &&
      this.maybeCommit()
    ) {
      releasePendingReadIndex(this);
      this.bcastAppend();
    }
  }

  // ---- reads (thesis §6.4) ----

  // ---- leadership transfer (thesis §3.10) ----

  /** Abandons a transfer in progress. */
  abortLeaderTransfer(): void {
    this.leadTransferee = None;
  }

  /** Starts transferring leadership to `target` (leader only). */
  transferLeadership(target: NodeId): void {
    const pr = this.trk.progress.get(target);
    if (pr === undefined || pr.isLearner) {
      this.cfg.logger.debug(
        `${this.id} [term ${this.term}] ignored transferring leadership to ${target}: not a voter`,
      );
      return;
    }
    if (this.leadTransferee !== None) {
      if (this.leadTransferee === target) return;
      this.abortLeaderTransfer();
    }
    if (target === this.id) return;
    this.cfg.logger.info(
      `${this.id} [term ${this.term}] starts to transfer leadership to ${target}`,
    );
    // The transfer must finish within one election timeout.
    this.electionElapsed = 0;
    this.leadTransferee = target;
    if (pr.match === this.raftLog.lastIndex()) {
      this.send({ type: "timeoutNow", to: target });
    } else {
      this.maybeSendAppend(target, true);
    }
  }

  // ---- proposals ----

  /** Appends a proposal on the leader; throws PROPOSAL_DROPPED when it cannot be accepted. */
  propose(entry: Entry): ProposalPosition {
    const drop = (why: string): never => {
      throw new RaftError(
        RaftErrorCode.ProposalDropped,
        `cannot propose at node ${this.id}: ${why}`,
      );
    };
    if (this.role !== "leader")
      return drop(`not the leader (role ${this.role}, leader ${this.lead})`);
    if (!this.trk.progress.has(this.id) || this.leavingAt !== undefined) {
      return drop("this node was removed from the configuration");
    }
    if (this.leadTransferee !== None) {
      return drop(`leadership is being transferred to ${this.leadTransferee}`);
    }
    if (entry.type === "confChange") this.#checkConfChange(entry.change, drop);
    if (!this.appendEntry([entry])) return drop("the uncommitted entry size limit was reached");
    const index = this.raftLog.lastIndex();
    if (entry.type === "confChange") this.pendingConfIndex = index;
    this.bcastAppend();
    return { index, term: this.term };
  }

  #checkConfChange(cc: ConfChange, drop: (why: string) => never): void {
    const joint = this.trk.config.voters[1].size > 0;
    const leave = cc.changes.length === 0;
    if (this.pendingConfIndex > this.raftLog.applied) {
      drop(
        `a configuration change at index ${this.pendingConfIndex} is not applied yet (applied ${this.raftLog.applied})`,
      );
    }
    if (joint && !leave) drop("the configuration is joint: leave it before another change");
    if (!joint && leave) drop("the configuration is not joint: nothing to leave");
    try {
      new Changer({ config: this.trk.config, progress: this.trk.progress }, (l) =>
        this.newProgress(l),
      ).apply(cc);
    } catch (err) {
      if (err instanceof RaftError) drop(err.message);
      throw err;
    }
  }

  // ---- membership (thesis §4) ----

  /** Returns the ids of every member, ascending (deterministic iteration). */
  memberIds(): readonly NodeId[] {
    return this.trk.memberIds();
  }
}

function payloadSize(es: readonly Entry[]): number {
  let size = 0;
  for (const e of es) if (e.type === "normal") size += e.data.length;
  return size;
}
