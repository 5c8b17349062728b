/**
 * The pure Raft core: no I/O, timers, clocks or randomness (all injected). Drive a
 * {@link RawNode} with tick/step/propose and handle each {@link Ready} in order.
 */
export type { RaftConfig, RandomInt } from "./config.js";
export { resolveConfig } from "./config.js";
export {
  describeEntry,
  emptyConfState,
  emptyHardState,
  entriesSize,
  entrySize,
  hardStateEqual,
  isEmptyHardState,
  limitSize,
} from "./entry.js";
export { InvariantError, RaftError, RaftErrorCode, invariant, isRaftError } from "./errors.js";
export type { RaftLogger } from "./logger.js";
export { discardLogger } from "./logger.js";
export type { ReadOnlyOption } from "./read-only.js";
export type { ProposalPosition } from "./raft.js";
export { RawNode, type ProgressStatus, type RaftStatus } from "./raw-node.js";
export { MemoryStorage, type InitialState, type Storage } from "./storage.js";
export { sliceLogArray, termInLogArray } from "./log-array.js";
export type { ProgressState } from "./tracker/index.js";
export {
  majorityCommittedIndex,
  majorityVoteResult,
  jointCommittedIndex,
  jointVoteResult,
  type VoteResult,
} from "./quorum/index.js";
export {
  None,
  type AppMessage,
  type AppRespMessage,
  type ConfChange,
  type ConfChangeSingle,
  type ConfChangeTransition,
  type ConfChangeType,
  type ConfState,
  type Entry,
  type GroupId,
  type HardState,
  type HeartbeatMessage,
  type HeartbeatRespMessage,
  type Index,
  type Message,
  type MessageType,
  type NodeId,
  type ReadIndexMessage,
  type ReadIndexRespMessage,
  type ReadState,
  type Ready,
  type Role,
  type SnapMessage,
  type Snapshot,
  type SnapshotMetadata,
  type SnapshotStatus,
  type SoftState,
  type Term,
  type TimeoutNowMessage,
  type TransferLeaderMessage,
  type VoteMessage,
  type VoteRespMessage,
} from "./types.js";
