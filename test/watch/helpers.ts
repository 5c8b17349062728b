/** Builders and collectors shared by the watch tests. */
import type { ChangeEvent } from "../../node/store/index.js";
import type { Watcher } from "../../node/watch/index.js";

/** A change event at `index` (kind update, revno = index). */
export function ev(index: number, collection: string, id: ChangeEvent["id"]): ChangeEvent {
  return { index, collection, id, revno: index, kind: "update", skipped: false };
}

/** Takes exactly `n` events from a watcher (throws what the watcher throws). */
export async function take(w: Watcher, n: number): Promise<ChangeEvent[]> {
  const out: ChangeEvent[] = [];
  while (out.length < n) {
    const r = await w.next();
    if (r.done === true) break;
    out.push(r.value);
  }
  return out;
}

/** Compact string form of events, for readable assertions. */
export function keys(events: readonly ChangeEvent[]): string[] {
  return events.map((e) => `${e.index}:${e.collection}/${JSON.stringify(e.id, bigints)}`);
}

function bigints(_key: string, v: unknown): unknown {
  return typeof v === "bigint" ? `${v}n` : v;
}
