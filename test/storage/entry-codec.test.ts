/** Round trips and strict decoding of the entry and state codecs. */
import fc from "fast-check";
import type { ConfState, Entry } from "../../node/raft/index.js";
import { decodeEntry, encodeEntry, encodedEntrySize } from "../../node/storage/entry-codec.js";
import { StorageErrorCode, isStorageError } from "../../node/storage/errors.js";
import {
  decodeConfRecord,
  decodeHardState,
  decodeLogStart,
  decodeSnapshotMetadata,
  encodeConfRecord,
  encodeHardState,
  encodeLogStart,
  encodeSnapshotMetadata,
} from "../../node/storage/state-codec.js";
import { confEntry, plain } from "./helpers.js";

const u53 = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const bytes = fc.uint8Array({ maxLength: 300 });

const entryArb: fc.Arbitrary<Entry> = fc.oneof(
  fc.record({ type: fc.constant("normal" as const), term: u53, index: u53, data: bytes }),
  fc.record({
    type: fc.constant("confChange" as const),
    term: u53,
    index: u53,
    change: fc.record({
      transition: fc.constantFrom("auto" as const, "implicit" as const, "explicit" as const),
      changes: fc.array(
        fc.record({
          type: fc.constantFrom("addNode" as const, "addLearner" as const, "removeNode" as const),
          nodeId: u64,
        }),
        { maxLength: 5 },
      ),
      context: bytes,
    }),
  }),
);

const confStateArb: fc.Arbitrary<ConfState> = fc.record({
  voters: fc.array(u64, { maxLength: 5 }),
  learners: fc.array(u64, { maxLength: 5 }),
  votersOutgoing: fc.array(u64, { maxLength: 5 }),
  learnersNext: fc.array(u64, { maxLength: 5 }),
  autoLeave: fc.boolean(),
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isStorageError(err) ? err.code : "not a StorageError";
  }
  return undefined;
}

describe("entry codec", () => {
  test("round-trips any entry, with the exact precomputed size", () => {
    fc.assert(
      fc.property(entryArb, (e) => {
        const buf = encodeEntry(e);
        expect(buf.length).toBe(encodedEntrySize(e));
        expect(plain([decodeEntry(buf)])).toEqual(plain([e]));
      }),
      { numRuns: 500 },
    );
  });

  test("round-trips the edges: empty data, max node id, max safe index", () => {
    const edges: Entry[] = [
      { type: "normal", term: 0, index: 0, data: new Uint8Array(0) },
      { type: "normal", term: 2 ** 53 - 1, index: 2 ** 53 - 1, data: new Uint8Array([0]) },
      {
        type: "confChange",
        term: 1,
        index: 1,
        change: {
          transition: "explicit",
          changes: [{ type: "removeNode", nodeId: 2n ** 64n - 1n }],
          context: new Uint8Array(0),
        },
      },
      confEntry(7, 3, 0x0123456789abcdefn),
    ];
    for (const e of edges) expect(plain([decodeEntry(encodeEntry(e))])).toEqual(plain([e]));
  });

  test("a normal entry with 256 bytes of data costs 5 bytes of framing at small indexes", () => {
    const e: Entry = { type: "normal", term: 5, index: 100, data: new Uint8Array(256) };
    expect(encodeEntry(e).length).toBe(256 + 1 + 1 + 1 + 2);
  });

  test("rejects truncated input, trailing bytes and unknown tags as CORRUPT", () => {
    fc.assert(
      fc.property(entryArb, fc.nat(), (e, cut) => {
        const buf = encodeEntry(e);
        const short = buf.subarray(0, cut % buf.length);
        expect(codeOf(() => decodeEntry(short))).toBe(StorageErrorCode.Corrupt);
        const long = Buffer.concat([buf, Buffer.from([0])]);
        expect(codeOf(() => decodeEntry(long))).toBe(StorageErrorCode.Corrupt);
      }),
    );
    expect(codeOf(() => decodeEntry(Buffer.from([7, 1, 1])))).toBe(StorageErrorCode.Corrupt);
    const cc = encodeEntry(confEntry(1, 1, 1n));
    cc[3] = 9; // the transition byte
    expect(codeOf(() => decodeEntry(cc))).toBe(StorageErrorCode.Corrupt);
    // An overlong varint (9 continuation bytes) and one beyond 2^53.
    const overlong = Buffer.from([0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
    expect(codeOf(() => decodeEntry(overlong))).toBe(StorageErrorCode.Corrupt);
    const huge = Buffer.from([0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    expect(codeOf(() => decodeEntry(huge))).toBe(StorageErrorCode.Corrupt);
  });

  test("names the record in the error message", () => {
    expect(() => decodeEntry(Buffer.from([0]), "entry 12")).toThrow(
      "cannot decode entry 12: truncated at byte 1 of 1",
    );
  });

  test("refuses to encode what it could not decode (INVALID)", () => {
    const neg: Entry = { type: "normal", term: -1, index: 1, data: new Uint8Array(0) };
    expect(codeOf(() => encodeEntry(neg))).toBe(StorageErrorCode.Invalid);
    const frac: Entry = { type: "normal", term: 1, index: 1.5, data: new Uint8Array(0) };
    expect(codeOf(() => encodeEntry(frac))).toBe(StorageErrorCode.Invalid);
    const bad = {
      type: "confChange",
      term: 1,
      index: 1,
      change: { transition: "sideways", changes: [], context: new Uint8Array(0) },
    } as unknown as Entry;
    expect(codeOf(() => encodeEntry(bad))).toBe(StorageErrorCode.Invalid);
  });
});

describe("state codecs", () => {
  test("round-trip hard state, snapshot metadata, configuration and log start", () => {
    fc.assert(
      fc.property(u53, u64, u53, confStateArb, bytes, (n, id, m, cs, members) => {
        const hs = { term: n, vote: id, commit: m };
        expect(decodeHardState(encodeHardState(hs))).toEqual(hs);
        const meta = { index: n, term: m, confState: cs };
        expect(decodeSnapshotMetadata(encodeSnapshotMetadata(meta))).toEqual(meta);
        const rec = decodeConfRecord(encodeConfRecord({ index: n, confState: cs, members }));
        expect({ ...rec, members: Array.from(rec.members) }).toEqual({
          index: n,
          confState: cs,
          members: Array.from(members),
        });
        expect(decodeLogStart(encodeLogStart({ index: n, term: m }))).toEqual({
          index: n,
          term: m,
        });
      }),
    );
  });

  test("reject malformed records as CORRUPT", () => {
    expect(codeOf(() => decodeHardState(Buffer.from([1, 2])))).toBe(StorageErrorCode.Corrupt);
    const meta = encodeSnapshotMetadata({
      index: 1,
      term: 1,
      confState: {
        voters: [],
        learners: [],
        votersOutgoing: [],
        learnersNext: [],
        autoLeave: true,
      },
    });
    meta[meta.length - 1] = 2; // autoLeave must be 0 or 1
    expect(codeOf(() => decodeSnapshotMetadata(meta))).toBe(StorageErrorCode.Corrupt);
    expect(codeOf(() => decodeLogStart(Buffer.from([1, 1, 1])))).toBe(StorageErrorCode.Corrupt);
  });
});
