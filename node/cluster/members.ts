import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { ConfChange, ConfState, NodeId } from "../raft/index.js";
import { MemberContextSchema } from "../../proto/gen/juraft/cluster/v1/cluster_pb.js";

/** Who a member is: its stable name and the address of its API (also used for Raft). */
export interface MemberInfo {
  readonly name: string;
  readonly address: string;
  /** The leader leaves promotion of this learner to an operator. */
  readonly manualPromotion?: boolean;
}

/** Encodes a member's identity as the opaque context of a conf change. */
export function encodeMemberContext(info: MemberInfo): Uint8Array {
  return toBinary(MemberContextSchema, create(MemberContextSchema, info));
}

/** Decodes a conf change context; an empty context (bootstrap, removal) gives undefined. */
export function decodeMemberContext(context: Uint8Array): MemberInfo | undefined {
  if (context.length === 0) return undefined;
  const m = fromBinary(MemberContextSchema, context);
  return { name: m.name, address: m.address, manualPromotion: m.manualPromotion };
}

/**
 * The address book: member id -> name and address, as of the applied index. It changes only by
 * applying committed conf changes (or restoring a snapshot), so every node agrees on it.
 */
export class MemberBook {
  readonly #members = new Map<NodeId, MemberInfo>();

  /** Creates a book from known members. */
  constructor(entries: Iterable<readonly [NodeId, MemberInfo]> = []) {
    for (const [id, info] of entries) this.#members.set(id, info);
  }

  /** Returns the member's identity, if known. */
  get(id: NodeId): MemberInfo | undefined {
    return this.#members.get(id);
  }

  /** Sets a member's identity. */
  set(id: NodeId, info: MemberInfo): void {
    this.#members.set(id, info);
  }

  /** Returns the id of the member named `name`, if any. */
  idOf(name: string): NodeId | undefined {
    for (const [id, info] of this.#members) if (info.name === name) return id;
    return undefined;
  }

  /** Records the identities a committed conf change carries, then forgets members `cs` lacks. */
  apply(cc: ConfChange, cs: ConfState): void {
    const info = decodeMemberContext(cc.context);
    if (info !== undefined) {
      for (const c of cc.changes) if (c.type !== "removeNode") this.#members.set(c.nodeId, info);
    }
    const keep = new Set([...cs.voters, ...cs.learners, ...cs.votersOutgoing]);
    for (const id of [...this.#members.keys()]) if (!keep.has(id)) this.#members.delete(id);
  }

  /** Returns every entry, ascending by id. */
  entries(): [NodeId, MemberInfo][] {
    return [...this.#members].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Serializes the book (JSON; ids as decimal strings). */
  encode(): Uint8Array {
    const list = this.entries().map(([id, m]) => ({
      id: id.toString(),
      name: m.name,
      address: m.address,
    }));
    return new TextEncoder().encode(JSON.stringify(list));
  }

  /** Parses a book written by {@link encode}. */
  static decode(bytes: Uint8Array): MemberBook {
    if (bytes.length === 0) return new MemberBook();
    const list = JSON.parse(new TextDecoder().decode(bytes)) as {
      id: string;
      name: string;
      address: string;
    }[];
    return new MemberBook(
      list.map((m) => [BigInt(m.id), { name: m.name, address: m.address }] as const),
    );
  }
}
