/**
 * Property tests: a watcher opened at any retained index, consumed at any pace while entries
 * keep coming and the bounded history is trimmed, sees exactly what a naive filter over the full
 * history gives (a fast implementation checked against a naive one, STYLES.md §7.3 rule 23).
 */
import fc from "fast-check";
import type { ChangeEvent } from "../../node/store/index.js";
import type { Watcher } from "../../node/watch/index.js";
import { WatchHub } from "../../node/watch/index.js";
import { ev, keys, take } from "./helpers.js";

const COLLS = ["a", "b", "c"] as const;
const IDS = [1, 2, "x"] as const;

interface Filter {
  readonly collections: string[];
  readonly ids: (string | number)[];
}

const filterArb: fc.Arbitrary<Filter> = fc.record({
  collections: fc.subarray([...COLLS]),
  ids: fc.subarray<string | number>([...IDS]),
});

const entryArb = fc.record({
  gap: fc.integer({ min: 1, max: 3 }),
  events: fc.array(fc.tuple(fc.constantFrom(...COLLS), fc.constantFrom(...IDS)), {
    maxLength: 4,
  }),
});

interface Entry {
  readonly gap: number;
  readonly events: readonly (readonly [string, string | number])[];
}
type Op =
  | { readonly type: "publish"; readonly entry: Entry }
  | { readonly type: "watch"; readonly at: number; readonly filter: Filter }
  | { readonly type: "consume"; readonly watcher: number; readonly n: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: entryArb.map((entry) => ({ type: "publish" as const, entry })) },
  {
    weight: 1,
    arbitrary: fc
      .record({ at: fc.nat(), filter: filterArb })
      .map((o) => ({ type: "watch" as const, ...o })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({ watcher: fc.nat(), n: fc.integer({ min: 1, max: 6 }) })
      .map((o) => ({ type: "consume" as const, ...o })),
  },
);

function naive(history: readonly ChangeEvent[], from: number, f: Filter): ChangeEvent[] {
  return history.filter(
    (e) =>
      e.index > from &&
      (f.collections.length === 0 || f.collections.includes(e.collection)) &&
      (f.ids.length === 0 || f.ids.includes(e.id as string | number)),
  );
}

interface Open {
  readonly w: Watcher;
  readonly from: number;
  readonly filter: Filter;
  readonly seen: ChangeEvent[];
}

test("a watcher resumed from any retained index sees exactly the naive filter's events", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 25 }),
      fc.integer({ min: 1, max: 40 }),
      fc.array(opArb, { maxLength: 60 }),
      async (maxEvents, maxEntries, ops) => {
        const hub = new WatchHub({ maxEvents, maxEntries, defaultQueueLimit: 10_000 });
        const history: ChangeEvent[] = [];
        const open: Open[] = [];
        let index = 0;
        for (const op of ops) {
          switch (op.type) {
            case "publish": {
              index += op.entry.gap;
              const evs = op.entry.events.map(([c, id]) => ev(index, c, id));
              history.push(...evs);
              hub.publish(index, evs);
              break;
            }
            case "watch": {
              // Any retained resume point: compactedIndex ..= lastIndex.
              const span = hub.lastIndex - hub.compactedIndex + 1;
              const from = hub.compactedIndex + (op.at % span);
              const w = hub.watch({ ...op.filter, fromIndex: from });
              open.push({ w, from, filter: op.filter, seen: [] });
              break;
            }
            case "consume": {
              const o = open[op.watcher % Math.max(1, open.length)];
              if (o === undefined) break;
              const want = naive(history, o.from, o.filter).length - o.seen.length;
              o.seen.push(...(await take(o.w, Math.min(op.n, want))));
              break;
            }
          }
        }
        // A sentinel entry every filter matches marks the end of each stream.
        const end = index + 1;
        hub.publish(
          end,
          COLLS.flatMap((c) => IDS.map((id) => ev(end, c, id))),
        );
        for (const o of open) {
          const expected = naive(history, o.from, o.filter);
          o.seen.push(...(await take(o.w, expected.length - o.seen.length)));
          expect(keys(o.seen)).toEqual(keys(expected));
          expect((await take(o.w, 1))[0]?.index).toBe(end);
          o.w.close();
        }
        expect(hub.watcherCount).toBe(0);
      },
    ),
    { numRuns: 300 },
  );
});

test("a compacted fromIndex always fails, a retained one never does", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(entryArb, { maxLength: 30 }),
      fc.integer({ min: 1, max: 10 }),
      fc.nat(),
      async (entries, maxEvents, pick) => {
        const hub = new WatchHub({ maxEvents });
        let index = 0;
        for (const e of entries) {
          index += e.gap;
          const i = index;
          hub.publish(
            i,
            e.events.map(([c, id]) => ev(i, c, id)),
          );
        }
        const from = pick % (hub.lastIndex + 1);
        const w = hub.watch({ fromIndex: from });
        const next = w.next();
        if (from < hub.compactedIndex) {
          await expect(next).rejects.toMatchObject({
            reason: "COMPACTED",
            details: { fromIndex: from, oldestIndex: hub.compactedIndex + 1 },
          });
        } else {
          w.close();
          await expect(next).resolves.toBeDefined();
        }
        expect(hub.watcherCount).toBe(0);
      },
    ),
    { numRuns: 300 },
  );
});
