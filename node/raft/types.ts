/**
 * The data the Raft core consumes and produces. Plain data only: the wire encoding lives in the
 * node runtime, never here.
 */

/** An opaque 64-bit member id. Ids are never reused: a member that lost its data rejoins as new. */
export type NodeId = bigint;
/** A Raft group id (one group today; multi-raft later, DESIGN.md §12). */
export type GroupId = bigint;
/** A Raft term (Raft paper §5.1). */
export type Term = number;
/** A position in the replicated log; the first real entry has index 1. */
export type Index = number;

/** The id meaning "nobody" (no vote cast, no leader known). */
export const None: NodeId = 0n;

/** The kinds of single membership step (Raft thesis §4.1, §4.2.1 learners). */
export type ConfChangeType = "addNode" | "addLearner" | "removeNode";

/** One member change. */
export interface ConfChangeSingle {
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
}

/**
 * How a multi-member change leaves the joint configuration (Raft thesis §4.3).
 * - `auto`: single changes are applied directly, multiple changes go joint and the leader
 *   proposes the leave as soon as the joint configuration is applied.
 * - `implicit`: always go joint, leave automatically.
 * - `explicit`: always go joint, the application proposes an empty change to leave.
 */
export type ConfChangeTransition = "auto" | "implicit" | "explicit";

/**
 * A membership change. An empty `changes` list means "leave the joint configuration".
 * `context` is opaque to Raft (the runtime stores member names/addresses there).
 */
export interface ConfChange {
  readonly transition: ConfChangeTransition;
  readonly changes: readonly ConfChangeSingle[];
  readonly context: Uint8Array;
}

/** The membership as persisted with snapshots (etcd's ConfState). */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  /** Voters of the outgoing half of a joint configuration; empty when not joint. */
  readonly votersOutgoing: readonly NodeId[];
  /** Learners that become learners once the joint configuration is left (they are voters now). */
  readonly learnersNext: readonly NodeId[];
  readonly autoLeave: boolean;
}

/** A log entry. Normal entries carry application data; an empty normal entry is a no-op. */
export type Entry =
  | {
      readonly type: "normal";
      readonly term: Term;
      readonly index: Index;
      readonly data: Uint8Array;
    }
  | {
      readonly type: "confChange";
      readonly term: Term;
      readonly index: Index;
      readonly change: ConfChange;
    };

/** State that must be persisted before messages are sent (Raft paper Figure 2, "persistent"). */
export interface HardState {
  readonly term: Term;
  readonly vote: NodeId;
  readonly commit: Index;
}

/** Metadata of a snapshot: the last index and term it covers and the membership at that index. */
export interface SnapshotMetadata {
  readonly index: Index;
  readonly term: Term;
  readonly confState: ConfState;
}

/** A snapshot of the application state machine; `data` is opaque to Raft. */
export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  readonly data: Uint8Array;
}

/** The role of a node. */
export type Role = "follower" | "preCandidate" | "candidate" | "leader";

/** Volatile state reported when it changes; never persisted. */
export interface SoftState {
  readonly leader: NodeId;
  readonly role: Role;
}

/**
 * The answer to a `readIndex(context)` request: once the application has applied `index`, a read
 * of its state machine is linearizable with respect to every write acknowledged before the
 * request (Raft thesis §6.4).
 */
export interface ReadState {
  readonly index: Index;
  readonly context: Uint8Array;
}

interface MessageBase {
  readonly group: GroupId;
  readonly from: NodeId;
  readonly to: NodeId;
  /** Sender's term; 0 for messages that carry no term (none today). */
  readonly term: Term;
}

/** AppendEntries (Raft paper §5.3): entries after (index, logTerm), plus the leader's commit. */
export interface AppMessage extends MessageBase {
  readonly type: "app";
  readonly index: Index;
  readonly logTerm: Term;
  readonly entries: readonly Entry[];
  readonly commit: Index;
}

/**
 * Response to `app` or `snap`. On success `index` is the last index now matching the leader.
 * On rejection `index` is the rejected `app.index`, and (`rejectHint`, `logTerm`) point at the
 * follower's best guess for the last matching entry (thesis §5.3 fast backtracking).
 */
export interface AppRespMessage extends MessageBase {
  readonly type: "appResp";
  readonly index: Index;
  readonly reject: boolean;
  readonly rejectHint: Index;
  readonly logTerm: Term;
}

/**
 * RequestVote (Raft paper §5.2) or its pre-vote twin (thesis §9.6). For a pre-vote `term` is the
 * term the sender would campaign in; its own term is unchanged. `transfer` marks a campaign
 * started by a leadership transfer, which overrides leader stickiness (thesis §3.10).
 */
export interface VoteMessage extends MessageBase {
  readonly type: "vote" | "preVote";
  readonly index: Index;
  readonly logTerm: Term;
  readonly transfer: boolean;
}

/** A vote grant or rejection. */
export interface VoteRespMessage extends MessageBase {
  readonly type: "voteResp" | "preVoteResp";
  readonly reject: boolean;
  /**
   * The responder's commit index and the term of that entry. A candidate whose log holds the
   * same entry learns that it is committed: without this, a member that missed the commit of
   * its leader's own removal would wait forever for that ex-leader's vote.
   */
  readonly commit: Index;
  readonly commitTerm: Term;
}

/**
 * Leader heartbeat; `context` carries a pending ReadIndex round, if any. `sentTick` is the
 * leader's own tick count when it was sent, echoed back so that the leader can bound its read
 * lease by send time, never by receive time (a delayed answer must not extend a lease).
 */
export interface HeartbeatMessage extends MessageBase {
  readonly type: "heartbeat";
  readonly commit: Index;
  readonly context: Uint8Array;
  readonly sentTick: number;
}

/** Heartbeat acknowledgment, echoing the ReadIndex context and the send tick. */
export interface HeartbeatRespMessage extends MessageBase {
  readonly type: "heartbeatResp";
  readonly context: Uint8Array;
  readonly sentTick: number;
}

/** InstallSnapshot (Raft paper §7); the transport streams `snapshot.data` in chunks. */
export interface SnapMessage extends MessageBase {
  readonly type: "snap";
  readonly snapshot: Snapshot;
}

/** Tells the transfer target to campaign immediately (thesis §3.10). */
export interface TimeoutNowMessage extends MessageBase {
  readonly type: "timeoutNow";
}

/** A follower asks the leader for a read index on behalf of a local read. */
export interface ReadIndexMessage extends MessageBase {
  readonly type: "readIndex";
  readonly context: Uint8Array;
}

/** The leader's answer to `readIndex`. */
export interface ReadIndexRespMessage extends MessageBase {
  readonly type: "readIndexResp";
  readonly index: Index;
  readonly context: Uint8Array;
}

/** A follower forwards a leadership-transfer request to the leader. */
export interface TransferLeaderMessage extends MessageBase {
  readonly type: "transferLeader";
  readonly target: NodeId;
}

/** Every message exchanged between members. */
export type Message =
  | AppMessage
  | AppRespMessage
  | VoteMessage
  | VoteRespMessage
  | HeartbeatMessage
  | HeartbeatRespMessage
  | SnapMessage
  | TimeoutNowMessage
  | ReadIndexMessage
  | ReadIndexRespMessage
  | TransferLeaderMessage;

/** The `type` tag of a message. */
export type MessageType = Message["type"];

/** Outcome of sending a snapshot, reported by the transport through `reportSnapshot`. */
export type SnapshotStatus = "finish" | "failure";

/**
 * The work the application owes the core, returned by `RawNode.ready()`.
 *
 * The application MUST, in this order:
 * 1. persist `snapshot` (if any), `entries` and `hardState` (if any) durably (synced when
 *    `mustSync`), as one atomic write;
 * 2. send `messages` (only after step 1: votes and acks promise persisted state);
 * 3. apply `snapshot` then `committedEntries` to the state machine, in order; apply a
 *    `confChange` entry by calling `RawNode.applyConfChange` and persisting the returned state;
 * 4. call `RawNode.advance()`.
 */
export interface Ready {
  /** Present when leader or role changed since the previous Ready. */
  readonly softState?: SoftState;
  /** Present when term, vote or commit changed; persist before sending `messages`. */
  readonly hardState?: HardState;
  /** ReadIndex answers that became available. */
  readonly readStates: readonly ReadState[];
  /** Entries to append to stable storage (they may overwrite a conflicting tail). */
  readonly entries: readonly Entry[];
  /** A snapshot to persist and apply before `committedEntries`. */
  readonly snapshot?: Snapshot;
  /** Entries known committed, to apply in order (all persisted already). */
  readonly committedEntries: readonly Entry[];
  /** Messages to send after persisting. */
  readonly messages: readonly Message[];
  /** Whether step 1 must be a synced write (term, vote or entries changed). */
  readonly mustSync: boolean;
}
