import { applyConfChange } from "./raft-membership.js";
import type { RaftConfig } from "./config.js";
import { emptyHardState, hardStateEqual } from "./entry.js";
import { InvariantError, RaftError, RaftErrorCode, invariant } from "./errors.js";
import { Raft, type ProposalPosition } from "./raft.js";
import { step } from "./step.js";
import { handleReadIndexRequest, reportSnapshot, reportUnreachable } from "./step-leader.js";
import type { ProgressState } from "./tracker/index.js";
import { confStateOf } from "./tracker/index.js";
import {
  None,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Index,
  type Message,
  type NodeId,
  type Ready,
  type Role,
  type SnapshotStatus,
  type SoftState,
  type Term,
} from "./types.js";

/** The leader's view of one member, as reported by {@link RawNode.status}. */
export interface ProgressStatus {
  readonly match: Index;
  readonly next: Index;
  readonly state: ProgressState;
  readonly isLearner: boolean;
  readonly recentActive: boolean;
  readonly inflight: number;
}

/** A point-in-time view of a node. */
export interface RaftStatus {
  readonly id: NodeId;
  readonly term: Term;
  readonly vote: NodeId;
  readonly commit: Index;
  readonly applied: Index;
  readonly lastIndex: Index;
  readonly lead: NodeId;
  readonly role: Role;
  readonly leadTransferee: NodeId;
  readonly config: ConfState;
  /** Present on the leader only. */
  readonly progress?: ReadonlyMap<NodeId, ProgressStatus>;
}

const emptyContext = new Uint8Array(0);

/**
 * The synchronous front door of the Raft core (etcd's RawNode). Not re-entrant; drive it from
 * one loop. Inputs: {@link tick}, {@link step}, {@link propose}, {@link proposeConfChange},
 * {@link readIndex}, {@link transferLeader}. Output: {@link ready}, acknowledged with
 * {@link advance}. At most one Ready is outstanding at a time; inputs may arrive meanwhile.
 */
export class RawNode {
  readonly #r: Raft;
  #prevSoft: SoftState;
  #prevHard: HardState;
  #outstanding: Ready | undefined;

  /** Creates a node from its configuration and whatever its storage holds. */
  constructor(config: RaftConfig) {
    this.#r = new Raft(config);
    this.#prevSoft = this.#softState();
    this.#prevHard = this.#hardState();
  }

  /**
   * Seeds a brand-new node (empty storage) with the initial voters: one committed conf change
   * entry per voter at term 1, exactly as every other founding member does, so that members
   * added later learn the founders by replicating the log. `contextOf` gives each founder's
   * conf change context (the runtime records the member's name and address there).
   */
  bootstrap(
    voters: readonly NodeId[],
    contextOf: (id: NodeId) => Uint8Array = () => emptyContext,
  ): void {
    const r = this.#r;
    if (r.raftLog.lastIndex() !== 0 || r.term !== 0) {
      throw new RaftError(
        RaftErrorCode.InvalidConfig,
        `cannot bootstrap node ${r.id}: its storage is not empty`,
      );
    }
    if (voters.length === 0) {
      throw new RaftError(
        RaftErrorCode.InvalidConfig,
        `cannot bootstrap node ${r.id}: no voters given`,
      );
    }
    r.becomeFollower(1, None);
    const entries: Entry[] = voters.map((nodeId, i) => ({
      type: "confChange",
      term: 1,
      index: i + 1,
      change: {
        transition: "auto",
        changes: [{ type: "addNode", nodeId }],
        context: contextOf(nodeId),
      },
    }));
    r.raftLog.append(entries);
    r.raftLog.committed = entries.length;
    for (const e of entries) if (e.type === "confChange") applyConfChange(r, e.change);
    // Make the first Ready carry the hard state.
    this.#prevHard = emptyHardState;
  }

  /** Advances logical time by one tick (elections, heartbeats, check-quorum). */
  tick(): void {
    this.#r.tick();
  }

  /** Starts an election now (with pre-vote when configured). */
  campaign(): void {
    this.#r.hup(this.#r.cfg.preVote ? "preElection" : "election");
  }

  /**
   * Proposes `data` for the log. Returns where it landed; it is committed only if the entry at
   * that index still has that term when applied. Throws PROPOSAL_DROPPED if not accepted.
   */
  propose(data: Uint8Array): ProposalPosition {
    return this.#r.propose({ type: "normal", term: 0, index: 0, data });
  }

  /**
   * Proposes a membership change (single-member or joint). Only one change may be pending;
   * throws PROPOSAL_DROPPED naming why otherwise.
   */
  proposeConfChange(change: ConfChange): ProposalPosition {
    return this.#r.propose({ type: "confChange", term: 0, index: 0, change });
  }

  /**
   * Steps a message from a peer. Messages for another group or node, and answers from nodes
   * outside the configuration, are dropped.
   */
  step(m: Message): void {
    const r = this.#r;
    if (m.group !== r.cfg.group || m.to !== r.id) {
      r.cfg.logger.warn(`${r.id} dropped ${m.type} for group ${m.group} node ${m.to}: misrouted`);
      return;
    }
    const isResponse =
      m.type === "appResp" ||
      m.type === "heartbeatResp" ||
      m.type === "voteResp" ||
      m.type === "preVoteResp";
    if (isResponse && !r.trk.progress.has(m.from)) return;
    step(r, m);
  }

  /**
   * Requests a linearizable read (thesis §6.4). The answer arrives as a ReadState with the same
   * `context` in a later Ready; it may never arrive (leader change), so callers time out.
   * `context` must be unique among the outstanding reads of every node: the leader keys rounds
   * by context alone and ignores a duplicate (etcd's contract too).
   * Throws PROPOSAL_DROPPED when no leader is known.
   */
  readIndex(context: Uint8Array): void {
    const r = this.#r;
    if (r.role === "leader") {
      handleReadIndexRequest(r, None, context);
      return;
    }
    if (r.role !== "follower" || r.lead === None) {
      throw new RaftError(
        RaftErrorCode.ProposalDropped,
        `cannot read at node ${r.id}: no leader known at term ${r.term}`,
      );
    }
    r.send({ type: "readIndex", to: r.lead, context });
  }

  /** Asks the leader to hand leadership to `target` (thesis §3.10). */
  transferLeader(target: NodeId): void {
    const r = this.#r;
    if (r.role === "leader") {
      r.transferLeadership(target);
    } else if (r.lead !== None) {
      r.send({ type: "transferLeader", to: r.lead, target });
    } else {
      throw new RaftError(
        RaftErrorCode.ProposalDropped,
        `cannot transfer leadership at node ${r.id}: no leader known`,
      );
    }
  }

  /** Tells the leader that `id` could not be reached. */
  reportUnreachable(id: NodeId): void {
    reportUnreachable(this.#r, id);
  }

  /** Tells the leader how sending a snapshot to `id` ended. */
  reportSnapshot(id: NodeId, status: SnapshotStatus): void {
    reportSnapshot(this.#r, id, status === "failure");
  }

  /**
   * Applies a committed conf change entry; the application persists the returned ConfState
   * (with its snapshots) and must call this exactly once per committed confChange entry.
   */
  applyConfChange(change: ConfChange): ConfState {
    return applyConfChange(this.#r, change);
  }

  /** Returns whether {@link ready} has work. False while a Ready is outstanding. */
  hasReady(): boolean {
    if (this.#outstanding !== undefined) return false;
    const r = this.#r;
    const soft = this.#softState();
    if (soft.leader !== this.#prevSoft.leader || soft.role !== this.#prevSoft.role) return true;
    if (!hardStateEqual(this.#hardState(), this.#prevHard)) return true;
    return (
      r.raftLog.unstable.snapshot !== undefined ||
      r.raftLog.unstableEntries().length > 0 ||
      r.msgs.length > 0 ||
      r.readStates.length > 0 ||
      r.raftLog.hasNextCommittedEntries()
    );
  }

  /** Returns the work the application owes (see {@link Ready} for the contract). */
  ready(): Ready {
    invariant(this.#outstanding === undefined, "ready() called again before advance()");
    const r = this.#r;
    const soft = this.#softState();
    const hard = this.#hardState();
    const softChanged = soft.leader !== this.#prevSoft.leader || soft.role !== this.#prevSoft.role;
    const hardChanged = !hardStateEqual(hard, this.#prevHard);
    const entries = r.raftLog.unstableEntries().slice();
    const snapshot = r.raftLog.unstable.snapshot;
    const rd: Ready = {
      ...(softChanged ? { softState: soft } : {}),
      ...(hardChanged ? { hardState: hard } : {}),
      readStates: r.readStates,
      entries,
      ...(snapshot !== undefined ? { snapshot } : {}),
      committedEntries: r.raftLog.nextCommittedEntries(r.cfg.maxCommittedSizePerReady),
      messages: r.msgs,
      mustSync:
        entries.length > 0 ||
        hard.term !== this.#prevHard.term ||
        hard.vote !== this.#prevHard.vote,
    };
    r.msgs = [];
    r.readStates = [];
    this.#outstanding = rd;
    return rd;
  }

  /** Acknowledges the outstanding Ready: it is persisted, sent and applied. */
  advance(): void {
    const rd = this.#outstanding;
    if (rd === undefined) throw new InvariantError("advance() called without an outstanding Ready");
    this.#outstanding = undefined;
    const r = this.#r;
    if (rd.softState !== undefined) this.#prevSoft = rd.softState;
    if (rd.hardState !== undefined) this.#prevHard = rd.hardState;
    if (rd.snapshot !== undefined) {
      r.raftLog.stableSnapTo(rd.snapshot.metadata.index);
      r.raftLog.appliedTo(rd.snapshot.metadata.index);
    }
    const last = rd.entries[rd.entries.length - 1];
    if (last !== undefined) r.onPersisted(last.index, last.term);
    const lastCommitted = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastCommitted !== undefined) {
      r.raftLog.appliedTo(lastCommitted.index);
      r.reduceUncommittedSize(rd.committedEntries);
      this.#maybeAutoLeave();
    }
  }

  /** Proposes leaving an auto-leave joint configuration once it is applied (thesis §4.3). */
  #maybeAutoLeave(): void {
    const r = this.#r;
    if (!r.trk.config.autoLeave || r.role !== "leader" || r.raftLog.applied < r.pendingConfIndex)
      return;
    const ok = r.appendEntry([
      {
        type: "confChange",
        term: 0,
        index: 0,
        change: { transition: "auto", changes: [], context: emptyContext },
      },
    ]);
    invariant(ok, "could not append the leave-joint entry");
    r.pendingConfIndex = r.raftLog.lastIndex();
    r.cfg.logger.info(`${r.id} initiating automatic transition out of joint configuration`);
    r.bcastAppend();
  }

  /** Returns a snapshot of the node's state. */
  status(): RaftStatus {
    const r = this.#r;
    let progress: Map<NodeId, ProgressStatus> | undefined;
    if (r.role === "leader") {
      progress = new Map();
      for (const id of r.trk.memberIds()) {
        const pr = r.trk.progress.get(id);
        if (pr === undefined) continue;
        progress.set(id, {
          match: pr.match,
          next: pr.next,
          state: pr.state,
          isLearner: pr.isLearner,
          recentActive: pr.recentActive,
          inflight: pr.inflights.count(),
        });
      }
    }
    return {
      id: r.id,
      term: r.term,
      vote: r.vote,
      commit: r.raftLog.committed,
      applied: r.raftLog.applied,
      lastIndex: r.raftLog.lastIndex(),
      lead: r.lead,
      role: r.role,
      leadTransferee: r.leadTransferee,
      config: confStateOf(r.trk.config),
      ...(progress !== undefined ? { progress } : {}),
    };
  }

  /** The state machine behind this node. @internal For tests that inspect internals. */
  get raft(): Raft {
    return this.#r;
  }

  #softState(): SoftState {
    return { leader: this.#r.lead, role: this.#r.role };
  }

  #hardState(): HardState {
    return { term: this.#r.term, vote: this.#r.vote, commit: this.#r.raftLog.committed };
  }
}
