/**
 * List, then watch from the list's resourceVersion; on 410 Gone (the version was compacted)
 * list again. Keeps a cache and calls back on every change (level-triggered consumers just
 * enqueue the key). The same pattern as client-node's ListWatch, with the relist observable.
 */
import type { KubernetesObject, Watch } from "@kubernetes/client-node";

/** A list call: items and the list's resourceVersion. */
export type ListFn<T> = () => Promise<{
  items: T[];
  metadata?: { resourceVersion?: string | undefined } | undefined;
}>;

/** `namespace/name` of an object. */
export const keyOf = (o: KubernetesObject): string =>
  `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;

const isGone = (err: unknown): boolean => {
  const e = err as { code?: unknown; statusCode?: unknown } | null;
  return e !== null && typeof e === "object" && (e.code === 410 || e.statusCode === 410);
};

/** A list+watch cache of one resource. */
export class Informer<T extends KubernetesObject> {
  readonly #cache = new Map<string, T>();
  #rv = "";
  #stopped = false;
  #abort: (() => void) | undefined;
  /** Full lists done (1 at start, one more after each 410 Gone). */
  lists = 0;

  constructor(
    private readonly watch: Watch,
    private readonly path: string,
    private readonly list: ListFn<T>,
    private readonly onChange: (key: string, obj: T | undefined) => void,
    private readonly retryMs = 1000,
  ) {}

  /** Lists once (so the cache is warm), then keeps watching in the background. */
  async start(): Promise<void> {
    await this.#relist();
    void this.#loop();
  }

  /** Stops watching. */
  stop(): void {
    this.#stopped = true;
    this.#abort?.();
  }

  /** Whether {@link stop} was called. */
  isStopped(): boolean {
    return this.#stopped;
  }

  /** A cached object. */
  get(namespace: string, name: string): T | undefined {
    return this.#cache.get(`${namespace}/${name}`);
  }

  /** Every cached object. */
  items(): T[] {
    return [...this.#cache.values()];
  }

  async #relist(): Promise<void> {
    const l = await this.list();
    this.lists++;
    const seen = new Set<string>();
    for (const o of l.items) {
      const k = keyOf(o);
      seen.add(k);
      this.#cache.set(k, o);
      this.onChange(k, o);
    }
    for (const k of [...this.#cache.keys()]) {
      if (seen.has(k)) continue;
      this.#cache.delete(k);
      this.onChange(k, undefined);
    }
    this.#rv = l.metadata?.resourceVersion ?? "";
  }

  async #loop(): Promise<void> {
    while (!this.isStopped()) {
      try {
        if (this.#rv === "") await this.#relist();
        await this.#watchOnce();
      } catch (err) {
        if (isGone(err)) this.#rv = "";
        else if (!this.isStopped()) await new Promise((r) => setTimeout(r, this.retryMs));
      }
    }
  }

  #watchOnce(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const handler = (type: string, obj: unknown): void => {
        const o = obj as T & { code?: number };
        if (type === "ERROR") {
          if (o.code === 410) this.#rv = "";
          return;
        }
        const rv = o.metadata?.resourceVersion;
        if (rv !== undefined) this.#rv = rv;
        if (type === "BOOKMARK") return;
        const k = keyOf(o);
        if (type === "DELETED") {
          this.#cache.delete(k);
          this.onChange(k, undefined);
        } else {
          this.#cache.set(k, o);
          this.onChange(k, o);
        }
      };
      const done = (err: unknown): void => {
        this.#abort = undefined;
        if (err === null || err === undefined) resolve();
        else reject(err instanceof Error ? err : new Error("watch failed", { cause: err }));
      };
      this.watch
        .watch(this.path, { resourceVersion: this.#rv, allowWatchBookmarks: true }, handler, done)
        .then((ctl) => {
          this.#abort = () => {
            ctl.abort();
          };
          if (this.#stopped) ctl.abort();
        }, reject);
    });
  }
}
