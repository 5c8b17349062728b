/**
 * An unbounded push queue read as an async iterable by one consumer: the request side of a
 * bidirectional stream (the producer never waits; HTTP/2 flow control applies behind it).
 */
export class PushQueue<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #wake: (() => void) | undefined;
  #ended = false;
  #failure: { error: unknown } | undefined;

  /** Adds an item; ignored once the queue ended. */
  push(item: T): void {
    if (this.#ended) return;
    this.#items.push(item);
    this.#notify();
  }

  /** Ends the iteration after the items already queued. */
  end(): void {
    this.#ended = true;
    this.#notify();
  }

  /** Ends the iteration with an error, dropping what is queued. */
  fail(error: unknown): void {
    this.#failure = { error };
    this.#ended = true;
    this.#items = [];
    this.#notify();
  }

  /** Whether end() or fail() was called. */
  get ended(): boolean {
    return this.#ended;
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.#items.length > 0) {
        const batch = this.#items;
        this.#items = [];
        for (const it of batch) yield it;
        continue;
      }
      if (this.#failure !== undefined) throw this.#failure.error;
      if (this.#ended) return;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }
}
