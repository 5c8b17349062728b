/**
 * What a benchmark runs against: a `Target` (juraft or etcd) hands out sessions, and a session
 * performs the abstract operations the workloads are made of. Each target maps them to its own
 * API with equivalent semantics (README "Benchmarks", BENCHMARKS.md).
 */

/** Whether an operation took effect or was refused by its compare (a CAS that lost a race). */
export type OpOutcome = "ok" | "aborted";

/** Read consistency: linearizable (juraft quorum, etcd default) or member-local. */
export type BenchConsistency = "quorum" | "local";

/** How one op of a multi-document transaction is guarded. */
export type Guard = "revno" | "exists" | "missing" | "none";

/** One op of an abstract Juju transaction. */
export interface TxnOp {
  /** Collection. */
  readonly c: string;
  /** Document id. */
  readonly id: string;
  /** assert-only, update ($set of `fields`, `$inc n` when `inc`), insert or remove. */
  readonly kind: "assert" | "update" | "insert" | "remove";
  /** revno: read first, then require the same revision; exists / missing: the document's presence. */
  readonly guard: Guard;
  /** Fields written by an update or insert. */
  readonly fields?: Readonly<Record<string, string>>;
  /** Whether an update also increments the counter `n`. */
  readonly inc?: boolean;
}

/** A server process whose CPU time is reported. */
export interface ServerProc {
  /** Member name. */
  readonly name: string;
  /** Process id (local targets only). */
  readonly pid: number;
}

/** One client's view of a target; sessions of one target share a few connections. */
export interface Session {
  /** Creates a document that does not exist yet. */
  insert(key: string, value: string, signal: AbortSignal): Promise<OpOutcome>;
  /** Reads `key` (linearizable), then writes `value` only if it is unchanged since the read. */
  cas(key: string, value: string, signal: AbortSignal): Promise<OpOutcome>;
  /** Reads `key`. */
  read(key: string, consistency: BenchConsistency, signal: AbortSignal): Promise<OpOutcome>;
  /** Reads the revno-guarded documents, then applies all ops atomically with their guards. */
  txn(ops: readonly TxnOp[], signal: AbortSignal): Promise<OpOutcome>;
}

/** A benchmark target: a cluster and a pool of connections to it. */
export interface Target {
  /** "juraft" or "etcd". */
  readonly name: string;
  /** The client endpoints. */
  readonly endpoints: readonly string[];
  /** Server processes this target started (empty for external endpoints). */
  readonly servers: readonly ServerProc[];
  /** The session of client `i`. */
  session(i: number): Session;
  /** Creates `docs` ([collection, id, value]) in batches (existing documents are left alone). */
  load(docs: readonly (readonly [string, string, string])[], signal: AbortSignal): Promise<void>;
  /**
   * Watches collection `c` for new documents, calling `onId` per delivered change, until `signal`
   * aborts; resolves once the watch is established.
   */
  watch(c: string, onId: (id: string) => void, signal: AbortSignal): Promise<void>;
  /** Closes the connections and stops the servers this target started. */
  close(): Promise<void>;
}
