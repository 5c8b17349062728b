import { invariant } from "../errors.js";
import type { Index } from "../types.js";

/**
 * The append messages sent to one follower and not yet acknowledged: the flow-control window.
 * Full when it holds `maxCount` messages or `maxBytes` bytes (0 means no byte limit).
 * Invariant: indexes are strictly increasing.
 */
export class Inflights {
  readonly #maxCount: number;
  readonly #maxBytes: number;
  #indexes: Index[] = [];
  #sizes: number[] = [];
  #start = 0;
  #bytes = 0;

  /** Creates an empty window. */
  constructor(maxCount: number, maxBytes: number) {
    this.#maxCount = maxCount;
    this.#maxBytes = maxBytes;
  }

  /** Records a message whose last entry is `index`, of `bytes` bytes. The window must not be full. */
  add(index: Index, bytes: number): void {
    invariant(!this.full(), "cannot add into a full inflights window");
    const last = this.#indexes[this.#indexes.length - 1];
    invariant(
      this.count() === 0 || last === undefined || index > last,
      () => `inflight index ${index} is not above ${last}`,
    );
    this.#indexes.push(index);
    this.#sizes.push(bytes);
    this.#bytes += bytes;
  }

  /** Frees every message whose last index is <= `to` (they were acknowledged). */
  freeLE(to: Index): void {
    let i = this.#start;
    while (i < this.#indexes.length && (this.#indexes[i] as Index) <= to) {
      this.#bytes -= this.#sizes[i] as number;
      i++;
    }
    this.#start = i;
    if (this.#start === this.#indexes.length) {
      this.reset();
    } else if (this.#start > 64 && this.#start * 2 > this.#indexes.length) {
      this.#indexes = this.#indexes.slice(this.#start);
      this.#sizes = this.#sizes.slice(this.#start);
      this.#start = 0;
    }
  }

  /** Frees the oldest message in flight, if any. */
  freeFirstOne(): void {
    const first = this.#indexes[this.#start];
    if (first !== undefined) this.freeLE(first);
  }

  /** Returns whether no more messages may be sent. */
  full(): boolean {
    return this.count() >= this.#maxCount || (this.#maxBytes > 0 && this.#bytes >= this.#maxBytes);
  }

  /** Returns the number of messages in flight. */
  count(): number {
    return this.#indexes.length - this.#start;
  }

  /** Returns the number of bytes in flight. */
  bytes(): number {
    return this.#bytes;
  }

  /** Returns an independent copy of the window. */
  clone(): Inflights {
    const copy = new Inflights(this.#maxCount, this.#maxBytes);
    copy.#indexes = this.#indexes.slice(this.#start);
    copy.#sizes = this.#sizes.slice(this.#start);
    copy.#bytes = this.#bytes;
    return copy;
  }

  /** Forgets every message in flight. */
  reset(): void {
    this.#indexes = [];
    this.#sizes = [];
    this.#start = 0;
    this.#bytes = 0;
  }
}
