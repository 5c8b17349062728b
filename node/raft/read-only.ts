import type { Index, NodeId } from "./types.js";

/**
 * How linearizable reads are served (thesis §6.4):
 * - `safe`: ReadIndex confirmed by a quorum heartbeat round;
 * - `leaseBased`: the leader answers from its lease (requires check-quorum; relies on bounded
 *   clock drift, thesis §6.4.1).
 */
export type ReadOnlyOption = "safe" | "leaseBased";

/** A read waiting for its index to be confirmed. `from` is None (0n) for a local request. */
export interface ReadIndexRequest {
  readonly from: NodeId;
  readonly context: Uint8Array;
}

/** A pending read: the commit index when it arrived and the acknowledgments gathered so far. */
export interface ReadIndexStatus {
  readonly request: ReadIndexRequest;
  readonly index: Index;
  readonly acks: Set<NodeId>;
}

/** Returns a Map key for a context byte string. */
export function contextKey(context: Uint8Array): string {
  let s = "";
  for (const b of context) s += String.fromCharCode(b);
  return s;
}

/** The leader's queue of ReadIndex rounds (etcd's readOnly). */
export class ReadOnly {
  readonly option: ReadOnlyOption;
  readonly #pending = new Map<string, ReadIndexStatus>();
  #queue: string[] = [];

  /** Creates an empty queue. */
  constructor(option: ReadOnlyOption) {
    this.option = option;
  }

  /** Queues a read of `index` (the current commit index); duplicates of a context are ignored. */
  addRequest(index: Index, request: ReadIndexRequest): void {
    const key = contextKey(request.context);
    if (this.#pending.has(key)) return;
    this.#pending.set(key, { request, index, acks: new Set() });
    this.#queue.push(key);
  }

  /** Records that `id` acknowledged the heartbeat carrying `context`; returns the acks so far. */
  recvAck(id: NodeId, context: Uint8Array): ReadonlySet<NodeId> | undefined {
    const rs = this.#pending.get(contextKey(context));
    if (rs === undefined) return undefined;
    rs.acks.add(id);
    return rs.acks;
  }

  /**
   * Dequeues the read with `context` and every read queued before it (a quorum that answered a
   * later heartbeat also confirms the earlier reads). Returns them in order.
   */
  advance(context: Uint8Array): ReadIndexStatus[] {
    const key = contextKey(context);
    const at = this.#queue.indexOf(key);
    if (at < 0) return [];
    const done = this.#queue.slice(0, at + 1);
    this.#queue = this.#queue.slice(at + 1);
    const out: ReadIndexStatus[] = [];
    for (const k of done) {
      const rs = this.#pending.get(k);
      if (rs !== undefined) out.push(rs);
      this.#pending.delete(k);
    }
    return out;
  }

  /** Returns the context of the newest pending read, or an empty context. */
  lastPendingRequestContext(): Uint8Array {
    const key = this.#queue[this.#queue.length - 1];
    if (key === undefined) return new Uint8Array(0);
    return (this.#pending.get(key) as ReadIndexStatus).request.context;
  }

  /** Returns the number of pending reads. */
  pendingCount(): number {
    return this.#queue.length;
  }
}
