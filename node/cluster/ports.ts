import type {
  Entry,
  HardState,
  Index,
  Message,
  NodeId,
  SnapMessage,
  SnapshotMetadata,
  SnapshotStatus,
  Storage,
} from "../raft/index.js";
import type { ChangeEvent } from "../store/index.js";
import type { MemberBook } from "./members.js";

/** What one Ready asks the log to make durable. */
export interface LogUpdate {
  readonly hardState?: HardState;
  readonly entries: readonly Entry[];
  /** A snapshot received from the leader: it replaces every entry at or below its index. */
  readonly snapshot?: SnapshotMetadata;
}

/**
 * The durable Raft log as the runtime uses it: the core reads it synchronously (Storage), the
 * runtime writes it asynchronously, one atomic write per Ready (group commit).
 */
export interface LogStore extends Storage {
  /** Persists one Ready's state as a single write, synced when `sync`. */
  save(update: LogUpdate, opts: { sync: boolean; signal?: AbortSignal }): Promise<void>;
  /** Records a snapshot taken locally at `meta.index` (its data is in the SnapshotStore). */
  markSnapshot(meta: SnapshotMetadata, opts?: { signal?: AbortSignal }): Promise<void>;
  /** Deletes entries up to and including `index` (covered by a snapshot). */
  compact(index: Index, opts?: { signal?: AbortSignal }): Promise<void>;
}

/** Where snapshot data lives (files on a real node). */
export interface SnapshotStore {
  /** Stores the data of the snapshot at `meta`, replacing nothing until it is complete. */
  save(
    meta: SnapshotMetadata,
    data: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
    opts?: { signal?: AbortSignal },
  ): Promise<void>;
  /** Streams the data of the snapshot at `index`, verifying it. */
  load(index: Index, opts?: { signal?: AbortSignal }): AsyncIterable<Uint8Array>;
  /** The newest complete snapshot, if any. */
  latest(): SnapshotMetadata | undefined;
}

/** Receives applied changes, in log order (the watcher hub). */
export interface ChangeSink {
  publish(index: Index, events: readonly ChangeEvent[]): void;
  /**
   * The state jumped to `index` (a snapshot was installed): changes before it are unknown, so
   * watchers that would miss them end with COMPACTED and must read again.
   */
  compactTo(index: Index): void;
}

/** Callbacks a transport uses to report delivery problems to Raft. */
export interface TransportReports {
  reportUnreachable(id: NodeId): void;
  reportSnapshot(id: NodeId, status: SnapshotStatus): void;
}

/** Carries Raft messages to peers. Never blocks and never throws on delivery failures. */
export interface Transport {
  /** Queues messages (bounded: overflow drops messages and reports the peer unreachable). */
  send(messages: readonly Message[]): void;
  /** Streams a snapshot; `data` is consumed once. Reports the outcome through reportSnapshot. */
  sendSnapshot(message: SnapMessage, data: readonly Uint8Array[]): void;
  /** Tells the transport where members are. */
  setMembers(members: MemberBook): void;
  /** Stops sending and closes connections. */
  close(): Promise<void>;
}
