/**
 * The hand-written Command codec (node/cluster/command.ts) against protobuf-es on the same
 * schema: each reads what the other writes, byte for byte where protobuf-es is deterministic.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { decodeCommand, encodeCommand, type TxnCommand } from "../../node/cluster/command.js";
import { CommandSchema } from "../../proto/gen/juraft/cluster/v1/cluster_pb.js";

const text = fc.string({ unit: "grapheme", maxLength: 40 });
// A map key "__proto__" is dropped when decoded, by protobuf-es and by the hand codec alike
// (both assign into a plain object): asserted on its own below, kept out of the round trip.
const key = text.filter((k) => k !== "__proto__");
const command: fc.Arbitrary<TxnCommand> = fc.record({
  txnId: text,
  ops: fc.uint8Array({ maxLength: 300 }),
  traceContext: fc.dictionary(key, text, { maxKeys: 3 }),
  timeMs: fc.oneof(fc.constant(0), fc.nat(), fc.maxSafeNat(), fc.integer({ min: -5, max: -1 })),
});

function byProtobufEs(c: TxnCommand): Uint8Array {
  return toBinary(
    CommandSchema,
    create(CommandSchema, {
      txnId: c.txnId,
      ops: c.ops,
      traceContext: { ...c.traceContext },
      timeMs: BigInt(c.timeMs),
    }),
  );
}

const plain = (c: TxnCommand): object => ({
  txnId: c.txnId,
  ops: [...c.ops],
  traceContext: { ...c.traceContext },
  timeMs: c.timeMs,
});

describe("Command codec", () => {
  test("writes exactly what protobuf-es writes, and reads it back (fast-check)", () => {
    fc.assert(
      fc.property(command, (c) => {
        const ours = encodeCommand(c);
        expect([...ours]).toEqual([...byProtobufEs(c)]);
        expect(plain(decodeCommand(ours))).toEqual(plain(c));
        const theirs = fromBinary(CommandSchema, ours);
        expect(theirs.txnId).toBe(c.txnId);
        expect(Number(theirs.timeMs)).toBe(c.timeMs);
      }),
      { numRuns: 500 },
    );
  });

  test("import batches, unknown fields and bad bytes go through protobuf-es", () => {
    const imp: TxnCommand = {
      txnId: "i",
      ops: new Uint8Array(0),
      traceContext: {},
      timeMs: 7,
      import: { collection: "units", documents: [new Uint8Array([5, 0, 0, 0, 0])] },
    };
    const back = decodeCommand(encodeCommand(imp));
    expect(back.import?.collection).toBe("units");
    expect(back.import?.documents.map((d) => [...d])).toEqual([[5, 0, 0, 0, 0]]);
    // Field 9 (varint 1) is unknown to both: protobuf-es skips it, so decoding still works.
    const unknown = new Uint8Array([
      ...encodeCommand({ txnId: imp.txnId, ops: imp.ops, traceContext: {}, timeMs: imp.timeMs }),
      0x48,
      1,
    ]);
    expect(decodeCommand(unknown).timeMs).toBe(7);
    // A truncated length is an error from protobuf-es, not a wrong command.
    expect(() => decodeCommand(new Uint8Array([0x12, 5, 1]))).toThrow();
    // Invalid UTF-8 in txn_id is refused.
    expect(() => decodeCommand(new Uint8Array([0x0a, 1, 0xff]))).toThrow();
    // "__proto__" as a trace-context key: dropped by both decoders, the rest kept.
    const proto: Record<string, string> = { traceparent: "p" };
    Object.defineProperty(proto, "__proto__", { value: "x", enumerable: true });
    const withProto = encodeCommand({ txnId: "t", ops: imp.ops, traceContext: proto, timeMs: 1 });
    expect(Buffer.from(withProto)).toEqual(
      Buffer.from(byProtobufEs({ txnId: "t", ops: imp.ops, traceContext: proto, timeMs: 1 })),
    );
    expect(Object.keys(decodeCommand(withProto).traceContext)).toEqual(["traceparent"]);
    expect(Object.keys(fromBinary(CommandSchema, withProto).traceContext)).toEqual(["traceparent"]);
    // A real U+FFFD (valid UTF-8) and long non-ASCII text decode exactly (through protobuf-es).
    const odd = { txnId: "a\uFFFDb" + "é".repeat(40), ops: imp.ops, traceContext: {}, timeMs: 1 };
    expect(decodeCommand(encodeCommand(odd)).txnId).toBe(odd.txnId);
  });
});
