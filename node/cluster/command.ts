import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { CommandSchema, type Command } from "../../proto/gen/juraft/cluster/v1/cluster_pb.js";

/** A transaction (or an import batch) as it travels in a Raft entry. */
export interface TxnCommand {
  readonly txnId: string;
  /** BSON {"ops": [...]}, already validated. */
  readonly ops: Uint8Array;
  readonly traceContext: Readonly<Record<string, string>>;
  readonly timeMs: number;
  /** Set for `juraft import` instead of ops: BSON documents of one collection. */
  readonly import?: { readonly collection: string; readonly documents: readonly Uint8Array[] };
}

/** Encodes a command as entry data. */
export function encodeCommand(c: TxnCommand): Uint8Array {
  return toBinary(
    CommandSchema,
    create(CommandSchema, {
      txnId: c.txnId,
      ops: c.ops,
      traceContext: { ...c.traceContext },
      timeMs: BigInt(c.timeMs),
      ...(c.import !== undefined
        ? { import: { collection: c.import.collection, documents: [...c.import.documents] } }
        : {}),
    }),
  );
}

/** Decodes entry data written by {@link encodeCommand}. */
export function decodeCommand(data: Uint8Array): TxnCommand {
  const c: Command = fromBinary(CommandSchema, data);
  const base = {
    txnId: c.txnId,
    ops: c.ops,
    traceContext: c.traceContext,
    timeMs: Number(c.timeMs),
  };
  if (c.import === undefined) return base;
  return { ...base, import: { collection: c.import.collection, documents: c.import.documents } };
}
