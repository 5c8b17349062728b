/** `WatchHub` (DESIGN.md §5): filtering, resume, compaction, slow consumers, lifecycle. */
import { ObjectId } from "bson";
import { WatchError, WatchHub } from "../../node/watch/index.js";
import { ev, keys, take } from "./helpers.js";

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection");
}

describe("WatchHub.watch() filters", () => {
  test("by collection: only the named collections", async () => {
    const hub = new WatchHub();
    const w = hub.watch({ collections: ["a", "c"] });
    hub.publish(1, [ev(1, "a", 1), ev(1, "b", 1)]);
    hub.publish(2, [ev(2, "c", 2), ev(2, "b", 2), ev(2, "a", 3)]);
    expect(keys(await take(w, 3))).toEqual(["1:a/1", "2:c/2", "2:a/3"]);
    w.close();
  });

  test("by id within collections, ids compared as BSON values", async () => {
    const hub = new WatchHub();
    const oid = new ObjectId();
    const w = hub.watch({ collections: ["a"], ids: [new ObjectId(oid.toHexString()), 7n, "x"] });
    hub.publish(1, [ev(1, "a", oid), ev(1, "b", oid), ev(1, "a", new ObjectId())]);
    hub.publish(2, [ev(2, "a", 7), ev(2, "a", "y"), ev(2, "a", "x")]);
    const got = await take(w, 3);
    expect(got.map((e) => e.index)).toEqual([1, 2, 2]);
    expect(got[0]?.id).toEqual(oid);
    expect(got[2]?.id).toBe("x");
    w.close();
  });

  test("ids without collections match in every collection; empty lists mean all", async () => {
    const hub = new WatchHub();
    const byId = hub.watch({ ids: ["k"] });
    const all = hub.watch({ collections: [], ids: [] });
    hub.publish(1, [ev(1, "a", "k"), ev(1, "b", "z"), ev(1, "b", "k")]);
    expect(keys(await take(byId, 2))).toEqual(['1:a/"k"', '1:b/"k"']);
    expect(await take(all, 3)).toHaveLength(3);
    byId.close();
    all.close();
  });

  test("a bad option fails the iterator with invalid_argument naming it", async () => {
    const hub = new WatchHub({ maxQueueLimit: 10 });
    const cases = [{ fromIndex: -1 }, { fromIndex: 1.5 }, { queueLimit: 0 }, { queueLimit: 11 }];
    for (const o of cases) {
      const err = await rejection(hub.watch(o).next());
      expect(err).toBeInstanceOf(WatchError);
      expect(err).toMatchObject({ code: "invalid_argument", reason: "BAD_WATCH_OPTION" });
    }
    const bad = await rejection(hub.watch({ ids: [Symbol("s")] }).next());
    expect(bad).toMatchObject({ code: "invalid_argument", message: /ids\[0\]/ });
    expect(hub.watcherCount).toBe(0);
  });
});

describe("WatchHub.watch() fromIndex", () => {
  function hubWith(n: number): WatchHub {
    const hub = new WatchHub();
    for (let i = 1; i <= n; i++) hub.publish(i, i % 3 === 0 ? [] : [ev(i, "a", i)]);
    return hub;
  }

  test("omitted: only events published after the call", async () => {
    const hub = hubWith(5);
    const w = hub.watch();
    hub.publish(6, [ev(6, "a", 6)]);
    expect(keys(await take(w, 1))).toEqual(["6:a/6"]);
    w.close();
  });

  test("resume within history: events with index > fromIndex, then live ones", async () => {
    const hub = hubWith(10);
    const w = hub.watch({ fromIndex: 6 });
    hub.publish(11, [ev(11, "a", 11)]);
    expect((await take(w, 4)).map((e) => e.index)).toEqual([7, 8, 10, 11]);
    w.close();
  });

  test("fromIndex 0 replays everything when nothing was compacted", async () => {
    const hub = hubWith(4);
    const w = hub.watch({ fromIndex: 0 });
    expect((await take(w, 3)).map((e) => e.index)).toEqual([1, 2, 4]);
    w.close();
  });

  test("a future fromIndex waits for events above it", async () => {
    const hub = hubWith(2);
    const w = hub.watch({ fromIndex: 5 });
    for (let i = 3; i <= 7; i++) hub.publish(i, [ev(i, "a", i)]);
    expect((await take(w, 2)).map((e) => e.index)).toEqual([6, 7]);
    w.close();
  });

  test("compacted: out_of_range COMPACTED naming the requested and the oldest index", async () => {
    const hub = hubWith(20);
    hub.compactTo(12);
    expect(hub.compactedIndex).toBe(12);
    const err = await rejection(hub.watch({ fromIndex: 5 }).next());
    expect(err).toBeInstanceOf(WatchError);
    expect(err).toMatchObject({
      code: "out_of_range",
      reason: "COMPACTED",
      details: { fromIndex: 5, oldestIndex: 13 },
    });
    expect((err as Error).message).toMatch(/index 5.*oldest index still available is 13/);
    expect(await rejection(hub.watch({ fromIndex: 0 }).next())).toMatchObject({
      reason: "COMPACTED",
    });
    // The compacted index itself is still a valid resume point.
    const ok = hub.watch({ fromIndex: 12 });
    expect((await take(ok, 2)).map((e) => e.index)).toEqual([13, 14]);
    ok.close();
    expect(hub.watcherCount).toBe(0);
  });

  test("history bounds: maxEvents drops whole entries, maxEntries bounds the index span", () => {
    const byEvents = new WatchHub({ maxEvents: 4 });
    byEvents.publish(1, [ev(1, "a", 1), ev(1, "a", 2)]);
    byEvents.publish(2, [ev(2, "a", 1), ev(2, "a", 2)]);
    byEvents.publish(3, [ev(3, "a", 1)]);
    expect(byEvents.compactedIndex).toBe(1);
    expect(byEvents.stats()).toMatchObject({ historyEvents: 3, lastIndex: 3 });
    const byEntries = new WatchHub({ maxEntries: 3, startIndex: 100 });
    for (let i = 101; i <= 110; i++) byEntries.publish(i, []);
    expect(byEntries.compactedIndex).toBe(107);
    expect(byEntries.lastIndex).toBe(110);
  });

  test("a replaying watcher keeps the history it still needs when the history is trimmed", async () => {
    const hub = new WatchHub({ maxEvents: 5, defaultQueueLimit: 100 });
    for (let i = 1; i <= 5; i++) hub.publish(i, [ev(i, "a", i)]);
    const w = hub.watch({ fromIndex: 0 });
    for (let i = 6; i <= 30; i++) hub.publish(i, [ev(i, "a", i)]);
    expect(hub.compactedIndex).toBe(25);
    expect((await take(w, 30)).map((e) => e.index)).toEqual(
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
    w.close();
  });

  test("a snapshot jump beyond the last index ends watchers that would miss entries", async () => {
    const hub = hubWith(5);
    const behind = hub.watch();
    const ahead = hub.watch({ fromIndex: 50 });
    hub.compactTo(40);
    expect(hub.lastIndex).toBe(40);
    const err = await rejection(behind.next());
    expect(err).toMatchObject({ reason: "COMPACTED", details: { oldestIndex: 41 } });
    hub.publish(51, [ev(51, "a", 1)]);
    expect((await take(ahead, 1)).map((e) => e.index)).toEqual([51]);
    ahead.close();
    expect(hub.watcherCount).toBe(0);
  });
});

describe("WatchHub slow consumers", () => {
  test("a watcher more than queueLimit behind is cut off with SLOW_CONSUMER", async () => {
    const hub = new WatchHub();
    const slow = hub.watch({ queueLimit: 3 });
    const other = hub.watch({ collections: ["b"], queueLimit: 3 });
    for (let i = 1; i <= 10; i++) hub.publish(i, [ev(i, "a", i)]); // never throws
    expect(hub.watcherCount).toBe(1);
    expect(slow.queued).toBe(0); // the queue was freed at the cut-off
    const err = await rejection(slow.next());
    expect(err).toBeInstanceOf(WatchError);
    expect(err).toMatchObject({
      code: "resource_exhausted",
      reason: "SLOW_CONSUMER",
      details: { queueLimit: 3 },
    });
    expect((err as Error).message).toContain("queue limit 3");
    expect(await slow.next()).toEqual({ done: true, value: undefined });
    other.close();
  });

  test("a consumer that keeps up is never cut off", async () => {
    const hub = new WatchHub({ maxEvents: 10 });
    const w = hub.watch({ queueLimit: 2 });
    for (let i = 1; i <= 1000; i++) {
      hub.publish(i, [ev(i, "a", i), ev(i, "a", -i)]);
      expect((await take(w, 2)).map((e) => e.id)).toEqual([i, -i]);
    }
    expect(w.resumeIndex).toBe(1000); // caught up
    w.close();
  });

  test("resumeIndex names a position that loses nothing (may repeat part of an entry)", async () => {
    const hub = new WatchHub();
    const w = hub.watch();
    hub.publish(1, [ev(1, "a", 1), ev(1, "a", 2)]);
    hub.publish(2, [ev(2, "a", 3)]);
    await take(w, 1);
    expect(w.resumeIndex).toBe(0); // entry 1 is only half delivered
    await take(w, 1);
    expect(w.resumeIndex).toBe(1);
    await take(w, 1);
    expect(w.resumeIndex).toBe(2);
    const pending = w.next();
    w.close();
    expect(await pending).toEqual({ done: true, value: undefined });
  });
});

describe("Watcher lifecycle", () => {
  test("break out of for await unsubscribes", async () => {
    const hub = new WatchHub();
    const w = hub.watch();
    for (let i = 1; i <= 3; i++) hub.publish(i, [ev(i, "a", i)]);
    let n = 0;
    for await (const e of w) {
      n += e.index;
      if (e.index === 2) break;
    }
    expect(n).toBe(3);
    expect(hub.watcherCount).toBe(0);
    expect(w.state).toBe("closed");
  });

  test("throwing inside for await unsubscribes", async () => {
    const hub = new WatchHub();
    hub.publish(1, [ev(1, "a", 1)]);
    const boom = new Error("boom");
    const loop = async (): Promise<void> => {
      for await (const e of hub.watch({ fromIndex: 0 })) throw Object.assign(boom, { e });
    };
    await expect(loop()).rejects.toBe(boom);
    expect(hub.watcherCount).toBe(0);
  });

  test("await using disposes; close() is idempotent", async () => {
    const hub = new WatchHub();
    {
      await using w = hub.watch();
      expect(hub.watcherCount).toBe(1);
      w.close();
      w.close();
    }
    expect(hub.watcherCount).toBe(0);
  });

  test("aborting the signal ends a waiting iterator with the abort reason", async () => {
    const hub = new WatchHub();
    const ac = new AbortController();
    const w = hub.watch({ signal: ac.signal });
    const pending = w.next();
    const reason = new Error("client went away");
    ac.abort(reason);
    expect(await rejection(pending)).toBe(reason);
    expect(hub.watcherCount).toBe(0);
    const pre = hub.watch({ signal: AbortSignal.abort(reason) });
    expect(await rejection(pre.next())).toBe(reason);
    expect(hub.watcherCount).toBe(0);
  });

  test("hub.close() hands out queued events then ends every watcher; later watches fail", async () => {
    const hub = new WatchHub();
    const a = hub.watch();
    const b = hub.watch({ collections: ["x"] });
    const parked = b.next();
    hub.publish(1, [ev(1, "a", 1)]);
    hub.close();
    await hub[Symbol.asyncDispose](); // idempotent
    expect(hub.watcherCount).toBe(0);
    expect(keys(await take(a, 5))).toEqual(["1:a/1"]);
    expect(await parked).toEqual({ done: true, value: undefined });
    expect(await rejection(hub.watch().next())).toMatchObject({
      code: "unavailable",
      reason: "HUB_CLOSED",
    });
    hub.publish(2, [ev(2, "a", 2)]); // ignored, never throws
  });

  test("publish rejects a non-increasing index or a mislabelled event (caller bug)", () => {
    const hub = new WatchHub();
    hub.publish(3, []);
    expect(() => {
      hub.publish(3, []);
    }).toThrow(/not after the last index 3/);
    expect(() => {
      hub.publish(4, [ev(5, "a", 1)]);
    }).toThrow(/event of index 5/);
  });

  test("ordering across many publishes and interleaved consumers", async () => {
    const hub = new WatchHub({ maxEvents: 50 });
    const w = hub.watch({ collections: ["a", "b"] });
    const seen: number[] = [];
    const consumer = (async () => {
      for await (const e of w) {
        seen.push(e.index);
        if (e.index === 5000) break;
      }
    })();
    for (let i = 1; i <= 5000; i++) {
      hub.publish(i, [ev(i, i % 2 === 0 ? "a" : "b", i)]);
      if (i % 100 === 0) await Promise.resolve();
    }
    await consumer;
    expect(seen).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
  });
});

test("a consumer that stays slightly behind keeps a bounded queue array", async () => {
  const hub = new WatchHub();
  const w = hub.watch({ queueLimit: 100 });
  for (let i = 1; i <= 20_000; i++) {
    hub.publish(i, [ev(i, "a", i), ev(i, "a", -i)]);
    // Consume two for each two produced, but always leave a backlog of about 50 events.
    if (i > 25) await take(w, 2);
    expect(w.queued).toBeLessThanOrEqual(52);
  }
  expect(w.state).toBe("live");
  w.close();
});

test("caller bugs: bad hub bounds, bad compaction index; bad collection names", async () => {
  expect(() => new WatchHub({ maxEvents: -1 })).toThrow(/maxEvents must be a non-negative/);
  expect(() => new WatchHub({ defaultQueueLimit: 0 })).toThrow(/defaultQueueLimit 0/);
  const hub = new WatchHub();
  expect(() => {
    hub.compactTo(-1);
  }).toThrow(/compact watch history to -1/);
  const w = hub.watch({ collections: [""] });
  await expect(w.next()).rejects.toMatchObject({ reason: "BAD_WATCH_OPTION" });
  hub.compactTo(0); // a no-op
  expect(hub.stats()).toEqual({
    watchers: 0,
    historyEvents: 0,
    compactedIndex: 0,
    lastIndex: 0,
    queued: 0,
    maxQueued: 0,
  });
});
