import type { Index, Term } from "../raft/index.js";

interface Deferred<T> {
  readonly resolve: (value: T) => void;
  readonly reject: (err: unknown) => void;
}

/** Returns a promise with its resolvers, removing `onAbort` once settled. */
export function deferred<T>(signal?: AbortSignal): { promise: Promise<T> } & Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  if (signal !== undefined) {
    const onAbort = (): void => {
      reject(signal.reason);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    const cleanup = (): void => {
      signal.removeEventListener("abort", onAbort);
    };
    promise.then(cleanup, cleanup);
  }
  return { promise, resolve, reject };
}

/** `promise`, or its rejection with the signal's reason once `signal` aborts first. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  const d = deferred<T>(signal);
  promise.then(d.resolve, d.reject);
  return d.promise;
}

/**
 * Proposals waiting for their entry to be applied, keyed by log index. An entry applied at that
 * index with another term means the proposal was overwritten by a new leader: it failed.
 */
export class ProposalWaiters<T> {
  readonly #pending = new Map<Index, { term: Term } & Deferred<T>>();

  /** Waits for the entry at (index, term). */
  wait(index: Index, term: Term, signal?: AbortSignal): Promise<T> {
    const d = deferred<T>(signal);
    this.#pending.set(index, { term, resolve: d.resolve, reject: d.reject });
    d.promise.catch(() => this.#pending.delete(index));
    return d.promise;
  }

  /** Settles the waiter at `index`: resolved with `value` if `term` matches, else rejected. */
  applied(index: Index, term: Term, value: () => T, overwritten: () => unknown): void {
    const p = this.#pending.get(index);
    if (p === undefined) return;
    this.#pending.delete(index);
    if (p.term === term) p.resolve(value());
    else p.reject(overwritten());
  }

  /** Rejects every waiter (leadership lost, node stopping). */
  rejectAll(err: () => unknown): void {
    for (const p of this.#pending.values()) p.reject(err());
    this.#pending.clear();
  }

  /** Returns the number of waiting proposals. */
  get size(): number {
    return this.#pending.size;
  }
}

type AppliedWaiter = { index: Index } & Deferred<undefined>;

/** Callers waiting until the applied index reaches some index. */
export class AppliedWaiters {
  #waiters: AppliedWaiter[] = [];

  /** Waits until `applied >= index`. */
  wait(index: Index, applied: Index, signal?: AbortSignal): Promise<undefined> {
    if (applied >= index) return Promise.resolve(undefined);
    const d = deferred<undefined>(signal);
    const w = { index, resolve: d.resolve, reject: d.reject };
    this.#waiters.push(w);
    d.promise.catch(() => {
      this.#waiters = this.#waiters.filter((x) => x !== w);
    });
    return d.promise;
  }

  /** Wakes every waiter at or below `applied`. */
  advance(applied: Index): void {
    if (this.#waiters.length === 0) return;
    const keep: AppliedWaiter[] = [];
    for (const w of this.#waiters) {
      if (w.index <= applied) w.resolve(undefined);
      else keep.push(w);
    }
    this.#waiters = keep;
  }

  /** Rejects every waiter. */
  rejectAll(err: () => unknown): void {
    for (const w of this.#waiters) w.reject(err());
    this.#waiters = [];
  }
}

/**
 * ReadIndex requests waiting for their read state, keyed by context. The leader keys the rounds
 * of every node by context alone (as etcd does), so a context must be unique across the cluster
 * and across restarts: each is `prefix` (the node and its incarnation) and a counter.
 */
export class ReadWaiters {
  readonly #pending = new Map<string, Deferred<Index>>();
  readonly #prefix: string;
  #next = 0;

  /** Creates an empty table whose contexts start with `prefix` (unique to this node's life). */
  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  /** Registers a request; returns its context and the promise of its read index. */
  create(signal?: AbortSignal): { context: Uint8Array; promise: Promise<Index> } {
    const key = `${this.#prefix}.${++this.#next}`;
    const d = deferred<Index>(signal);
    this.#pending.set(key, d);
    d.promise.then(
      () => this.#pending.delete(key),
      () => this.#pending.delete(key),
    );
    return { context: new TextEncoder().encode(key), promise: d.promise };
  }

  /** Fails the request with `context` (it could not be handed to Raft). */
  reject(context: Uint8Array, err: unknown): void {
    this.#pending.get(new TextDecoder().decode(context))?.reject(err);
  }

  /** Resolves the request with `context`. */
  resolve(context: Uint8Array, index: Index): void {
    this.#pending.get(new TextDecoder().decode(context))?.resolve(index);
  }

  /** Rejects every pending request. */
  rejectAll(err: () => unknown): void {
    for (const d of this.#pending.values()) d.reject(err());
    this.#pending.clear();
  }
}
