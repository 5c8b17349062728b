import fc from "fast-check";
import { decodeCommand, encodeCommand } from "../../node/cluster/command.js";
import { traceContextOfCommand } from "../../node/telemetry/index.js";

describe("traceContextOfCommand", () => {
  it("reads the same trace context as the full decoder, for any command", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }),
        fc.uint8Array({ maxLength: 400 }),
        fc.dictionary(fc.string({ maxLength: 20 }), fc.string({ maxLength: 80 }), {
          maxKeys: 3,
        }),
        fc.integer({ min: 0, max: 2 ** 52 }),
        fc.option(
          fc.record({
            collection: fc.string({ maxLength: 10 }),
            documents: fc.array(fc.uint8Array({ maxLength: 30 }), { maxLength: 3 }),
          }),
          { nil: undefined },
        ),
        (txnId, ops, traceContext, timeMs, imp) => {
          const data = encodeCommand({
            txnId,
            ops,
            traceContext,
            timeMs,
            ...(imp !== undefined ? { import: imp } : {}),
          });
          expect(traceContextOfCommand(data)).toEqual({ ...decodeCommand(data).traceContext });
        },
      ),
      { numRuns: 300 },
    );
  });

  it("returns an empty context for bytes that are not a command, never throwing", () => {
    const data = encodeCommand({
      txnId: "t",
      ops: new Uint8Array(200).fill(1),
      traceContext: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
      timeMs: 1,
    });
    for (let cut = 1; cut < data.length; cut += 7)
      expect(typeof traceContextOfCommand(data.subarray(0, cut))).toBe("object");
    expect(traceContextOfCommand(new Uint8Array([0x0f, 0xff]))).toEqual({});
    expect(traceContextOfCommand(new Uint8Array(0))).toEqual({});
  });
});
