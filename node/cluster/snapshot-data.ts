import type { DocumentStore } from "../store/index.js";
import { SnapshotReader } from "../store/index.js";
import { MemberBook } from "./members.js";
import { ClusterError } from "./errors.js";
import { Code } from "@connectrpc/connect";

/**
 * The data of a Raft snapshot: a 4-byte big-endian header length, a JSON header (format, the
 * member book), then the document store's own snapshot stream (node/store/snapshot.ts).
 */
const format = "juraft-snapshot/1";

/** Yields the snapshot data of `store` and `members`, chunk by chunk. */
export function* encodeSnapshotData(
  store: DocumentStore,
  members: MemberBook,
): Generator<Uint8Array> {
  const header = new TextEncoder().encode(
    JSON.stringify({ format, members: new TextDecoder().decode(members.encode()) }),
  );
  const prefix = new Uint8Array(4 + header.length);
  new DataView(prefix.buffer).setUint32(0, header.length);
  prefix.set(header, 4);
  yield prefix;
  yield* store.snapshot();
}

/** Rebuilds the store and member book from snapshot data; throws DataLoss when malformed. */
export async function decodeSnapshotData(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<{ store: DocumentStore; members: MemberBook }> {
  let pending: Uint8Array = new Uint8Array(0);
  let headerLen = -1;
  let members: MemberBook | undefined;
  const reader = new SnapshotReader();
  for await (const chunk of chunks) {
    if (members !== undefined) {
      reader.push(chunk);
      continue;
    }
    pending = concat(pending, chunk);
    if (headerLen < 0 && pending.length >= 4)
      headerLen = new DataView(pending.buffer, pending.byteOffset).getUint32(0);
    if (headerLen < 0 || pending.length < 4 + headerLen) continue;
    members = parseHeader(pending.subarray(4, 4 + headerLen));
    const rest = pending.subarray(4 + headerLen);
    if (rest.length > 0) reader.push(rest);
  }
  if (members === undefined) throw corrupt("the header is incomplete");
  return { store: reader.finish(), members };
}

function parseHeader(bytes: Uint8Array): MemberBook {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw corrupt(`the header is not JSON (${String(err)})`);
  }
  const h = parsed as { format?: unknown; members?: unknown };
  if (h.format !== format || typeof h.members !== "string")
    throw corrupt(`unknown header format ${JSON.stringify(h.format)}`);
  return MemberBook.decode(new TextEncoder().encode(h.members));
}

function corrupt(why: string): ClusterError {
  return new ClusterError(Code.DataLoss, "CORRUPT_SNAPSHOT", `read snapshot data: ${why}`);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
