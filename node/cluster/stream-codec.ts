/**
 * `juraft.raft.v1.StreamRequest {cluster_id = 1; batch = 2}` in protobuf's wire format, framed
 * for gRPC: what a member writes on its raw `RaftService.Stream` (node/cluster/raw-stream.ts) and
 * what the receiving member reads (node/api/raft-stream.ts). Anything but the two fields goes
 * through protobuf-es, so the bytes are those of any protobuf encoder (test/cluster/raw-stream).
 */
import { fromBinary } from "@bufbuild/protobuf";
import { RaftService, StreamRequestSchema } from "../../proto/gen/juraft/raft/v1/raft_pb.js";
import { invalidArgument } from "./errors.js";
import { Reader, StorageError, Writer, uvarintSize } from "../storage/index.js";
import { FRAME_HEADER_BYTES, writeFrameHeader } from "../util/index.js";

/** The HTTP/2 path of `RaftService.Stream`. */
export const raftStreamPath = `/${RaftService.typeName}/${RaftService.method.stream.name}`;

const CLUSTER_ID = 0x0a;
const BATCH = 0x12;

/** A decoded StreamRequest. */
export interface StreamBatch {
  readonly clusterId: string;
  /** The messages in the wire codec's batch encoding (node/cluster/wire-codec.ts). */
  readonly batch: Uint8Array;
}

/** The UTF-8 bytes of a cluster id, encoded once per stream. */
export function clusterIdBytes(clusterId: string): Uint8Array {
  return new TextEncoder().encode(clusterId);
}

/** The gRPC frame (5-byte prefix, then the message) of a StreamRequest. */
export function streamRequestFrame(clusterId: Uint8Array, batch: Uint8Array): Uint8Array {
  const field = (b: Uint8Array): number =>
    b.length === 0 ? 0 : 1 + uvarintSize(b.length) + b.length;
  const size = field(clusterId) + field(batch);
  const w = new Writer(FRAME_HEADER_BYTES + size);
  writeFrameHeader(w.buf, 0, size);
  w.pos = FRAME_HEADER_BYTES;
  // proto3: a field at its default (empty) is not written.
  if (clusterId.length > 0) {
    w.u8(CLUSTER_ID);
    w.bytes(clusterId);
  }
  if (batch.length > 0) {
    w.u8(BATCH);
    w.bytes(batch);
  }
  return w.finish();
}

const utf8 = new TextDecoder();

/** Decodes a StreamRequest message (no frame header); throws on malformed bytes. */
export function decodeStreamRequest(b: Uint8Array): StreamBatch {
  const r = new Reader(b, "stream request");
  let clusterId = "";
  let batch: Uint8Array = new Uint8Array(0);
  try {
    while (!r.atEnd()) {
      const tag = r.u8();
      if (tag === BATCH) batch = r.bytes();
      else if (tag === CLUSTER_ID) {
        clusterId = utf8.decode(r.bytes());
        // Invalid UTF-8 decodes to U+FFFD: protobuf-es (strict) says what is wrong, if anything.
        if (clusterId.includes("\uFFFD")) return slow(b);
      } else return slow(b);
    }
  } catch (err) {
    // Truncated: protobuf-es reports it in its words.
    if (err instanceof StorageError) return slow(b);
    throw err;
  }
  return { clusterId, batch };
}

function slow(b: Uint8Array): StreamBatch {
  try {
    const m = fromBinary(StreamRequestSchema, b);
    return { clusterId: m.clusterId, batch: m.batch };
  } catch (err) {
    // protobuf-es throws plain Errors on malformed input: the peer's mistake, coded as such.
    throw invalidArgument(
      "BAD_STREAM_REQUEST",
      `decode RaftService.Stream request: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}
