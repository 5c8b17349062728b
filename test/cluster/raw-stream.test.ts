/**
 * Raft streams written as raw gRPC frames (node/cluster/raw-stream.ts, node/cluster/stream-codec.ts)
 * and read without Connect (node/api/raft-stream.ts): the framing across chunk boundaries, bytes
 * identical to protobuf-es, in-order delivery through HTTP/2 backpressure, and coded refusals of
 * bad input, as gRPC statuses a Connect or grpc-go member understands.
 */
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { StreamRequestSchema } from "../../proto/gen/juraft/raft/v1/raft_pb.js";
import { isRaftStream, serveRaftStream } from "../../node/api/raft-stream.js";
import { MemberBook } from "../../node/cluster/members.js";
import { PeerClients } from "../../node/cluster/peer-clients.js";
import {
  clusterIdBytes,
  decodeStreamRequest,
  raftStreamPath,
  streamRequestFrame,
} from "../../node/cluster/stream-codec.js";
import { PeerTransport } from "../../node/cluster/transport.js";
import { encodeBatch } from "../../node/cluster/wire-codec.js";
import { discardLogger, type Message } from "../../node/raft/index.js";
import { FrameReader, writeFrameHeader, type FrameError } from "../../node/util/index.js";

const append = (index: number, bytes: number): Message => ({
  type: "app",
  group: 0n,
  from: 1n,
  to: 2n,
  term: 3,
  logTerm: 3,
  index: index - 1,
  commit: 0,
  entries: [{ type: "normal", term: 3, index, data: new Uint8Array(bytes).fill(index % 251) }],
});

function frame(message: Uint8Array, flag = 0): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  writeFrameHeader(out, 0, message.length);
  out[0] = flag;
  out.set(message, 5);
  return out;
}

describe("FrameReader", () => {
  test("returns the same messages however the bytes are split into chunks", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (messages, cuts) => {
          const all = Buffer.concat(messages.map((m) => frame(m)));
          const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b);
          const reader = new FrameReader(1024, "test");
          const got: Uint8Array[] = [];
          let from = 0;
          for (const p of [...points, all.length]) {
            got.push(...reader.push(all.subarray(from, p)));
            from = p;
          }
          expect(got.map((m) => Buffer.from(m).toString("hex"))).toEqual(
            messages.map((m) => Buffer.from(m).toString("hex")),
          );
          expect(reader.pending).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("refuses compressed and oversize messages, and reports a truncated one as pending", () => {
    expect(() => new FrameReader(10, "s").push(frame(new Uint8Array(3), 1))).toThrow(
      expect.objectContaining({ name: "FrameError", reason: "compressed" }) as FrameError,
    );
    expect(() => new FrameReader(10, "s").push(frame(new Uint8Array(11)))).toThrow(
      /a message of 11 bytes, over the limit of 10/,
    );
    const r = new FrameReader(10, "s");
    expect(r.push(frame(new Uint8Array(8)).subarray(0, 7))).toEqual([]);
    expect(r.pending).toBe(7);
  });
});

describe("StreamRequest codec", () => {
  test("writes protobuf-es's bytes after the gRPC prefix and reads any encoder's", () => {
    fc.assert(
      fc.property(fc.string(), fc.uint8Array({ maxLength: 200 }), (clusterId, batch) => {
        const f = streamRequestFrame(clusterIdBytes(clusterId), batch);
        const reference = toBinary(
          StreamRequestSchema,
          create(StreamRequestSchema, { clusterId, batch }),
        );
        expect(Buffer.from(f.subarray(5)).toString("hex")).toBe(
          Buffer.from(reference).toString("hex"),
        );
        expect(new FrameReader(1 << 20, "t").push(f)).toHaveLength(1);
        const back = decodeStreamRequest(reference);
        expect([back.clusterId, Buffer.from(back.batch).toString("hex")]).toEqual([
          clusterId,
          Buffer.from(batch).toString("hex"),
        ]);
      }),
      { numRuns: 200 },
    );
    // An unknown field (a newer member) is skipped, as protobuf requires.
    const withUnknown = Buffer.concat([
      toBinary(StreamRequestSchema, create(StreamRequestSchema, { clusterId: "c" })),
      Buffer.from([0x18, 0x07]),
    ]);
    expect(decodeStreamRequest(withUnknown).clusterId).toBe("c");
    expect(() => decodeStreamRequest(Buffer.from([0x12, 0x09, 0x01]))).toThrow(
      expect.objectContaining({ reason: "BAD_STREAM_REQUEST" }) as Error,
    );
  });
});

/** A member whose Stream is the raw implementation; every stepped message lands in `got`. */
async function member(
  clusterId: string,
  got: Message[],
): Promise<{ address: string; close: () => void }> {
  const ctx = { clusterId, runtime: { step: (m: Message) => got.push(m) } };
  const server = http2.createServer((req, res) => {
    if (isRaftStream(req)) serveRaftStream(ctx, 1 << 20, req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.close();
    },
  };
}

/** Posts raw bytes as a gRPC call to Stream; resolves with the gRPC status and the reason. */
function post(address: string, body: Uint8Array): Promise<{ status: string; reason: string }> {
  const s = http2.connect(`http://${address}`);
  return new Promise((resolve, reject) => {
    const req = s.request({
      ":method": "POST",
      ":path": raftStreamPath,
      "content-type": "application/grpc+proto",
      te: "trailers",
    });
    let h: http2.IncomingHttpHeaders = {};
    const merge = (x: http2.IncomingHttpHeaders): void => {
      h = { ...h, ...x };
    };
    req.on("response", merge);
    req.on("trailers", merge);
    req.on("data", () => undefined);
    req.on("error", reject);
    req.on("close", () => {
      s.close();
      resolve({ status: String(h["grpc-status"]), reason: String(h["juraft-reason"] ?? "") });
    });
    req.end(body);
  });
}

describe("raw RaftService.Stream", () => {
  test("delivers every batch in order through HTTP/2 backpressure", async () => {
    const got: Message[] = [];
    const peer = await member("c", got);
    const clients = new PeerClients();
    const unreachable: bigint[] = [];
    const t = new PeerTransport({
      self: 1n,
      clusterId: "c",
      clients,
      reports: { reportUnreachable: (id) => unreachable.push(id), reportSnapshot: () => undefined },
      logger: discardLogger,
      maxBatch: 4,
    });
    try {
      const members = new MemberBook();
      members.set(2n, { name: "p", address: peer.address });
      t.setMembers(members);
      // 400 appends of 40 KiB in 100 batches: far past HTTP/2's window and the stream's mark.
      for (let i = 1; i <= 400; i += 4) t.send([1, 2, 3, 4].map((k) => append(i + k - 1, 40_000)));
      const deadline = Date.now() + 20_000;
      while (got.length < 400 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(got.map((m) => (m.type === "app" ? m.entries[0]?.index : -1))).toEqual(
        Array.from({ length: 400 }, (_, i) => i + 1),
      );
      const sizes = got.map((m) => {
        const e = m.type === "app" ? m.entries[0] : undefined;
        return e?.type === "normal" ? e.data.length : -1;
      });
      expect(sizes.every((n) => n === 40_000)).toBe(true);
      expect(unreachable).toEqual([]);
    } finally {
      await t.close();
      clients.close();
      peer.close();
    }
  });

  test("answers bad input with coded gRPC statuses and steps nothing of it", async () => {
    const got: Message[] = [];
    const peer = await member("c", got);
    try {
      const good = streamRequestFrame(clusterIdBytes("c"), encodeBatch([append(1, 10)]));
      expect(await post(peer.address, good)).toEqual({ status: "0", reason: "" });
      expect(got).toHaveLength(1);
      const foreign = streamRequestFrame(clusterIdBytes("x"), encodeBatch([append(2, 10)]));
      expect(await post(peer.address, foreign)).toEqual({
        status: "9",
        reason: "CLUSTER_MISMATCH",
      });
      expect(await post(peer.address, good.subarray(0, good.length - 1))).toEqual({
        status: "3",
        reason: "TRUNCATED_MESSAGE",
      });
      expect(await post(peer.address, frame(new Uint8Array(4), 1))).toEqual({
        status: "3",
        reason: "COMPRESSED_MESSAGE",
      });
      expect(await post(peer.address, frame(new Uint8Array((1 << 20) + 1)))).toEqual({
        status: "8",
        reason: "MESSAGE_TOO_LARGE",
      });
      const badBatch = streamRequestFrame(clusterIdBytes("c"), new Uint8Array([1, 2, 3]));
      expect(await post(peer.address, badBatch)).toEqual({
        status: "3",
        reason: "BAD_RAFT_MESSAGE",
      });
      expect(got).toHaveLength(1);
    } finally {
      peer.close();
    }
  });
});
