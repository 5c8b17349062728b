/**
 * One subscriber: an async iterator over committed change events with a bounded queue. It first
 * replays the shared history through a cursor (no copy), then receives live events from the hub.
 */
import type { ChangeEvent } from "../store/index.js";
import type { History } from "./history.js";
import { slowConsumerError } from "./errors.js";

/** An event a watcher yields: a committed change tagged with its log index. */
export type WatchEvent = ChangeEvent;

/** Decides whether an event passes a watcher's collection and id filter. */
export type EventFilter = (e: ChangeEvent) => boolean;

/**
 * The lifecycle: `replaying` reads the history through a cursor, `live` receives pushed events,
 * `draining` hands out what is queued then ends (hub closed), `failed` throws once, `closed` is done.
 */
export type WatcherState = "replaying" | "live" | "draining" | "failed" | "closed";

/** What a watcher needs from its hub (an interface, so that watcher.ts and hub.ts form no cycle). */
export interface WatchSource {
  /** The shared history. */
  readonly history: History;
  /** Called once when the watcher has replayed the whole history and wants live events. */
  goLive(w: Watcher): void;
  /** Called once when the watcher ends, whatever the reason. */
  detach(w: Watcher): void;
}

/** Construction parameters of a {@link Watcher} (built by the hub). */
export interface WatcherInit {
  readonly source: WatchSource;
  readonly filter: EventFilter;
  /** Only events with an index above this are delivered. */
  readonly after: number;
  readonly queueLimit: number;
  /** Sequence number to replay from, or undefined to start live. */
  readonly cursor: number | undefined;
  readonly signal: AbortSignal | undefined;
}

interface Waiter {
  resolve(r: IteratorResult<WatchEvent, undefined>): void;
  reject(e: unknown): void;
}

const DONE: IteratorResult<WatchEvent, undefined> = { done: true, value: undefined };

/**
 * A stream of {@link WatchEvent}s in log order. Use with `for await`; leaving the loop (break,
 * return, throw), `close()`, disposal or aborting the signal unsubscribes it. Errors: a
 * {@link WatchError} (COMPACTED, SLOW_CONSUMER, HUB_CLOSED, BAD_WATCH_OPTION) or the abort reason.
 */
export class Watcher implements AsyncIterableIterator<WatchEvent, undefined>, AsyncDisposable {
  #state: WatcherState;
  readonly #source: WatchSource;
  readonly #filter: EventFilter;
  readonly #after: number;
  readonly #limit: number;
  /** Replaying: the next history sequence number to examine. */
  #cursor: number;
  /** Consumed slots are cleared to undefined so the events can be collected. */
  #queue: (WatchEvent | undefined)[] = [];
  #qhead = 0;
  #waiters: Waiter[] = [];
  #error: unknown = undefined;
  /** Invariant: every matching event with index <= #complete has been returned by next(). */
  #complete: number;
  #lastReturned: number;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = (): void => {
    this.fail(this.#signal?.reason);
  };

  /** Built by `WatchHub.watch`; not for direct use. @internal */
  constructor(init: WatcherInit) {
    this.#source = init.source;
    this.#filter = init.filter;
    this.#after = init.after;
    this.#limit = init.queueLimit;
    this.#cursor = init.cursor ?? 0;
    this.#state = init.cursor === undefined ? "live" : "replaying";
    this.#complete = init.after;
    this.#lastReturned = init.after;
    this.#signal = init.signal;
    this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** The lifecycle state (see {@link WatcherState}). */
  get state(): WatcherState {
    return this.#state;
  }

  /** Events queued and not yet consumed (history still to replay is not counted: it is shared). */
  get queued(): number {
    return this.#queue.length - this.#qhead;
  }

  /** The `fromIndex` that resumes this stream without losing events (may repeat part of one entry). */
  get resumeIndex(): number {
    return this.#complete;
  }

  /** Returns this: a watcher is its own (single) iterator. */
  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The next event; waits while none is available; throws the error that ended the watcher. */
  next(): Promise<IteratorResult<WatchEvent, undefined>> {
    const e = this.#take();
    if (e !== undefined) {
      const r = this.#yield(e);
      // Never inside publish (consumers run in later microtasks): every published entry is whole.
      if (this.queued === 0 && this.#state === "live") this.#caughtUp();
      else if ((this.#queue[this.#qhead]?.index ?? 0) > e.index) this.#complete = e.index;
      return Promise.resolve(r);
    }
    switch (this.#state) {
      case "failed": {
        const err = this.#error;
        this.#state = "closed";
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
      case "closed":
      case "draining":
        this.#state = "closed";
        return Promise.resolve(DONE);
      case "replaying":
      case "live":
        this.#caughtUp();
        return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
    }
  }

  /** Ends the watcher (called by `for await` on break/return/throw). */
  return(): Promise<IteratorResult<WatchEvent, undefined>> {
    this.close();
    return Promise.resolve(DONE);
  }

  /** Unsubscribes and drops queued events; idempotent. Pending `next()` calls resolve done. */
  close(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#end();
    for (const w of this.#waiters.splice(0)) w.resolve(DONE);
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /** Hub: offers a live event (filtered here); cuts the watcher off when the queue overflows. */
  offer(e: ChangeEvent): void {
    if (this.#state === "live") this.#push(e);
  }

  /** Hub: the history is about to drop everything before `seq`; queue what this watcher needs. */
  rescue(seq: number): void {
    if (this.#state !== "replaying") return;
    const h = this.#source.history;
    while (this.#cursor < seq) {
      if (!this.#push(h.at(this.#cursor++))) return;
    }
  }

  /** Queues `e` if it matches (or hands it to a waiting `next()`); false when cut off. */
  #push(e: ChangeEvent): boolean {
    if (e.index <= this.#after || !this.#filter(e)) return true;
    const w = this.#waiters.shift();
    if (w !== undefined) {
      w.resolve(this.#yield(e));
      return true;
    }
    this.#queue.push(e);
    if (this.queued <= this.#limit) return true;
    this.fail(slowConsumerError(this.#limit, this.#complete));
    return false;
  }

  /** Hub: ends the watcher with `err` (dropping queued events) and unsubscribes it. */
  fail(err: unknown): void {
    if (this.#state === "failed" || this.#state === "closed") return;
    this.#error = err;
    this.#end();
    const w = this.#waiters.shift();
    if (w !== undefined) {
      this.#state = "closed";
      w.reject(err);
      for (const rest of this.#waiters.splice(0)) rest.resolve(DONE);
    } else {
      this.#state = "failed";
    }
  }

  /** Hub: stops taking events; what is queued is still handed out, then the iterator ends. */
  drain(): void {
    if (this.#state !== "live" && this.#state !== "replaying") return;
    this.#state = "draining";
    this.#detach();
    for (const w of this.#waiters.splice(0)) w.resolve(DONE);
  }

  /** Common teardown of fail and close: free the queue and unsubscribe. */
  #end(): void {
    this.#queue = [];
    this.#qhead = 0;
    this.#detach();
  }

  #detach(): void {
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#source.detach(this);
  }

  /** The next queued or replayed event, switching to live when the history is exhausted. */
  #take(): WatchEvent | undefined {
    if (this.#qhead < this.#queue.length) {
      const e = this.#queue[this.#qhead];
      this.#queue[this.#qhead++] = undefined;
      if (this.#qhead === this.#queue.length) {
        this.#queue = [];
        this.#qhead = 0;
      } else if (this.#qhead > 1024 && this.#qhead * 2 > this.#queue.length) {
        // A consumer that never quite catches up must not grow the array with consumed slots.
        this.#queue = this.#queue.slice(this.#qhead);
        this.#qhead = 0;
      }
      return e;
    }
    if (this.#state !== "replaying") return undefined;
    const h = this.#source.history;
    while (this.#cursor < h.nextSeq) {
      const e = h.at(this.#cursor++);
      if (this.#filter(e)) return e;
    }
    this.#state = "live";
    this.#source.goLive(this);
    return undefined;
  }

  /** Nothing is queued while live: everything published so far has been returned. */
  #caughtUp(): void {
    this.#complete = Math.max(this.#complete, this.#source.history.lastIndex);
  }

  /** Records `e` as returned (advancing the resume index) and wraps it. */
  #yield(e: WatchEvent): IteratorResult<WatchEvent, undefined> {
    if (e.index > this.#lastReturned) {
      // Moving to a higher index means every matching event below it was already returned.
      this.#complete = Math.max(this.#complete, e.index - 1);
      this.#lastReturned = e.index;
    }
    return { done: false, value: e };
  }
}
