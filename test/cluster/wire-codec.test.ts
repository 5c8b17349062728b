import fc from "fast-check";
import { decodeBatch, encodeBatch } from "../../node/cluster/wire-codec.js";
import type { Entry, Message } from "../../node/raft/index.js";

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const u53 = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const small = fc.nat({ max: 1_000_000 });
const bytes = fc.uint8Array({ maxLength: 64 });
const base = fc.record({ group: u64, from: u64, to: u64, term: u53 });

const entry: fc.Arbitrary<Entry> = fc.oneof(
  fc.record({ type: fc.constant("normal" as const), term: small, index: u53, data: bytes }),
  fc.record({
    type: fc.constant("confChange" as const),
    term: small,
    index: u53,
    change: fc.record({
      transition: fc.constantFrom("auto" as const, "implicit" as const, "explicit" as const),
      changes: fc.array(
        fc.record({
          type: fc.constantFrom("addNode" as const, "addLearner" as const, "removeNode" as const),
          nodeId: u64,
        }),
        { maxLength: 3 },
      ),
      context: bytes,
    }),
  }),
);

const message: fc.Arbitrary<Message> = fc.oneof(
  fc
    .record({
      b: base,
      index: u53,
      logTerm: small,
      commit: u53,
      entries: fc.array(entry, { maxLength: 4 }),
    })
    .map(({ b, ...m }) => ({ ...b, type: "app" as const, ...m })),
  fc
    .record({ b: base, index: u53, reject: fc.boolean(), rejectHint: u53, logTerm: small })
    .map(({ b, ...m }) => ({ ...b, type: "appResp" as const, ...m })),
  fc
    .record({
      b: base,
      type: fc.constantFrom("vote" as const, "preVote" as const),
      index: u53,
      logTerm: small,
      transfer: fc.boolean(),
    })
    .map(({ b, ...m }) => ({ ...b, ...m })),
  fc
    .record({
      b: base,
      type: fc.constantFrom("voteResp" as const, "preVoteResp" as const),
      reject: fc.boolean(),
      commit: u53,
      commitTerm: small,
    })
    .map(({ b, ...m }) => ({ ...b, ...m })),
  fc.record({ b: base, commit: u53, context: bytes, sentTick: u53 }).map(({ b, ...m }) => ({
    ...b,
    type: "heartbeat" as const,
    ...m,
  })),
  fc.record({ b: base, context: bytes, sentTick: u53 }).map(({ b, ...m }) => ({
    ...b,
    type: "heartbeatResp" as const,
    ...m,
  })),
  base.map((b) => ({ ...b, type: "timeoutNow" as const })),
  fc.record({ b: base, context: bytes }).map(({ b, ...m }) => ({
    ...b,
    type: "readIndex" as const,
    ...m,
  })),
  fc.record({ b: base, index: u53, context: bytes }).map(({ b, ...m }) => ({
    ...b,
    type: "readIndexResp" as const,
    ...m,
  })),
  fc.record({ b: base, target: u64 }).map(({ b, ...m }) => ({
    ...b,
    type: "transferLeader" as const,
    ...m,
  })),
);

/** Byte fields decode as views; compare them as plain arrays. */
function plain(v: unknown): unknown {
  return JSON.parse(
    JSON.stringify(v, (_k, x: unknown) =>
      typeof x === "bigint" ? `${x}n` : x instanceof Uint8Array ? Array.from(x) : x,
    ),
  );
}

describe("raft batch wire codec", () => {
  it("round-trips every message type, field for field", () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 8 }), (batch) => {
        expect(plain(decodeBatch(encodeBatch(batch)))).toEqual(plain(batch));
      }),
      { numRuns: 500 },
    );
  });

  it("refuses a snapshot message: snapshots stream on InstallSnapshot", () => {
    const snap = {
      type: "snap" as const,
      group: 0n,
      from: 1n,
      to: 2n,
      term: 1,
      snapshot: {
        metadata: {
          index: 1,
          term: 1,
          confState: { voters: [], learners: [], votersOutgoing: [], learnersNext: [] },
        },
        data: new Uint8Array(0),
      },
    } as unknown as Message;
    expect(() => encodeBatch([snap])).toThrow(/InstallSnapshot/);
  });

  it("answers truncated, padded, mistyped or wrong-version input with BAD_RAFT_MESSAGE", () => {
    const good = encodeBatch([
      {
        type: "heartbeat",
        group: 0n,
        from: 1n,
        to: 2n,
        term: 3,
        commit: 4,
        context: new Uint8Array([1]),
        sentTick: 5,
      },
    ]);
    const bad = [
      good.subarray(0, good.length - 1),
      Uint8Array.from([...good, 0]),
      Uint8Array.from([2, ...good.subarray(1)]),
      Uint8Array.from([1, 1, 200]),
      new Uint8Array(0),
    ];
    for (const b of bad) expect(() => decodeBatch(b)).toThrow(/decode raft message batch/);
  });

  it("never throws anything but BAD_RAFT_MESSAGE on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        try {
          decodeBatch(Uint8Array.from([1, ...b]));
        } catch (err) {
          expect(err).toMatchObject({ reason: "BAD_RAFT_MESSAGE" });
        }
      }),
      { numRuns: 1000 },
    );
  });
});
