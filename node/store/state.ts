/**
 * The store's replicated state and its bounds. Every field is part of the snapshot, so two
 * stores that applied the same entries hold equal states (issue 3, "Snapshot and restore").
 */
import type { StoreError } from "./errors.js";
import type { Slot, TxnMode } from "./txn-engine.js";
import { TxnTable } from "./txn-table.js";
import type { Value } from "./values.js";

/** Retention of removed documents' revnos (SPEC §6.1, §10.4: the pruner drops tombstones). */
export interface TombstoneBounds {
  /** Keep at most this many tombstones (oldest dropped first). */
  readonly maxCount: number;
  /** Drop tombstones made more than this many log entries ago. */
  readonly maxIndexDistance: number;
  /** Drop tombstones older than this (ms, by entry timestamps); only when entries carry one. */
  readonly maxAgeMs: number;
}

/** Bounds of the idempotency table (SPEC §8: dedupe resends by client transaction id). */
export interface IdempotencyBounds {
  /** Remember at most this many transaction ids (oldest forgotten first). */
  readonly maxCount: number;
  /** Forget ids recorded more than this many log entries ago. */
  readonly maxIndexDistance: number;
}

/** Fully resolved store options (recorded in the snapshot). */
export interface ResolvedOptions {
  readonly mode: TxnMode;
  readonly tombstones: TombstoneBounds;
  readonly idempotency: IdempotencyBounds;
  /** Emit change events for skipped ops (Juju 2.x `txns.log` does, SPEC §9.1). */
  readonly emitSkipped: boolean;
}

/** Default bounds: a day of tombstones (as Juju's hourly pruner keeps roughly), 1M at most. */
export const DEFAULT_TOMBSTONES: TombstoneBounds = {
  maxCount: 1_000_000,
  maxIndexDistance: 10_000_000,
  maxAgeMs: 24 * 60 * 60 * 1000,
};

/** Default idempotency bounds: 100,000 ids, and none older than 1,000,000 entries. */
export const DEFAULT_IDEMPOTENCY: IdempotencyBounds = {
  maxCount: 100_000,
  maxIndexDistance: 1_000_000,
};

/** The outcome recorded for a transaction id (issue 3, "An idempotency table"). */
export type RecordedOutcome =
  | { readonly outcome: "applied"; readonly revnos: readonly (number | null)[] }
  | {
      readonly outcome: "aborted";
      readonly op: number;
      readonly reason: "assert_failed" | "duplicate_key";
      /** The assert that failed (`"d+"`, `"d-"` or the query), or null for a duplicate key. */
      readonly assert: Value | null;
    }
  | { readonly outcome: "rejected"; readonly error: StoreError };

/** One idempotency-table entry. */
export interface TxnRecord {
  readonly index: number;
  readonly result: RecordedOutcome;
}

/** A tombstone in removal order, for pruning. */
export interface TombRef {
  readonly c: string;
  readonly key: string;
  readonly slot: Slot;
}

/** The whole replicated state. */
export interface StoreState {
  readonly options: ResolvedOptions;
  appliedIndex: number;
  /** Timestamp (ms) of the last applied entry that carried one. */
  lastTimeMs: number | undefined;
  readonly collections: Map<string, Map<string, Slot>>;
  /** Tombstones oldest first; entries whose slot was since replaced are stale and skipped. */
  tombs: TombRef[];
  tombHead: number;
  /** Number of tombstones currently stored. Invariant: tombCount <= tombs.length - tombHead. */
  tombCount: number;
  /** The idempotency table, oldest first. */
  readonly txns: TxnTable;
}

/** Creates an empty state. */
export function emptyState(options: ResolvedOptions): StoreState {
  return {
    options,
    appliedIndex: 0,
    lastTimeMs: undefined,
    collections: new Map(),
    tombs: [],
    tombHead: 0,
    tombCount: 0,
    txns: new TxnTable(),
  };
}
