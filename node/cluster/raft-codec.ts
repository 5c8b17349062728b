import { create } from "@bufbuild/protobuf";
import type {
  ConfChange,
  ConfChangeTransition,
  ConfChangeType,
  ConfState,
  Entry,
  Message,
  MessageType,
  SnapshotMetadata,
} from "../raft/index.js";
import {
  ConfChangeSchema,
  ConfChangeTransition as PbTransition,
  ConfChangeType as PbChangeType,
  ConfStateSchema,
  EntrySchema,
  EntryType as PbEntryType,
  MessageSchema,
  MessageType as PbMessageType,
  SnapshotMetadataSchema,
  type ConfChange as PbConfChange,
  type ConfState as PbConfState,
  type Entry as PbEntry,
  type Message as PbMessage,
  type SnapshotMetadata as PbSnapshotMetadata,
} from "../../proto/gen/juraft/raft/v1/raft_pb.js";
import { invalidArgument } from "./errors.js";

const toWire = new Map<MessageType, PbMessageType>([
  ["app", PbMessageType.APP],
  ["appResp", PbMessageType.APP_RESP],
  ["vote", PbMessageType.VOTE],
  ["preVote", PbMessageType.PRE_VOTE],
  ["voteResp", PbMessageType.VOTE_RESP],
  ["preVoteResp", PbMessageType.PRE_VOTE_RESP],
  ["heartbeat", PbMessageType.HEARTBEAT],
  ["heartbeatResp", PbMessageType.HEARTBEAT_RESP],
  ["snap", PbMessageType.SNAP],
  ["timeoutNow", PbMessageType.TIMEOUT_NOW],
  ["readIndex", PbMessageType.READ_INDEX],
  ["readIndexResp", PbMessageType.READ_INDEX_RESP],
  ["transferLeader", PbMessageType.TRANSFER_LEADER],
]);
const fromWire = new Map([...toWire].map(([k, v]) => [v, k]));

const changeTypes: [ConfChangeType, PbChangeType][] = [
  ["addNode", PbChangeType.ADD_NODE],
  ["addLearner", PbChangeType.ADD_LEARNER],
  ["removeNode", PbChangeType.REMOVE_NODE],
];
const transitions: [ConfChangeTransition, PbTransition][] = [
  ["auto", PbTransition.AUTO],
  ["implicit", PbTransition.IMPLICIT],
  ["explicit", PbTransition.EXPLICIT],
];

/** Converts a wire uint64 to a number, refusing values a JS number cannot hold exactly. */
export function toIndex(v: bigint, field: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw invalidArgument("BAD_RAFT_MESSAGE", `decode raft message: ${field} ${v} exceeds 2^53`);
  }
  return Number(v);
}

/** Encodes a configuration change. */
export function confChangeToProto(cc: ConfChange): PbConfChange {
  return create(ConfChangeSchema, {
    transition: (
      transitions.find(([t]) => t === cc.transition) as [ConfChangeTransition, PbTransition]
    )[1],
    changes: cc.changes.map((c) => ({
      type: (changeTypes.find(([t]) => t === c.type) as [ConfChangeType, PbChangeType])[1],
      nodeId: c.nodeId,
    })),
    context: cc.context,
  });
}

/** Decodes a configuration change; throws InvalidArgument on unknown enum values. */
export function confChangeFromProto(p: PbConfChange | undefined): ConfChange {
  if (p === undefined) throw invalidArgument("BAD_RAFT_MESSAGE", "decode conf change: missing");
  const transition = transitions.find(([, w]) => w === p.transition)?.[0];
  if (transition === undefined) {
    throw invalidArgument(
      "BAD_RAFT_MESSAGE",
      `decode conf change: unknown transition ${p.transition}`,
    );
  }
  const changes = p.changes.map((c) => {
    const type = changeTypes.find(([, w]) => w === c.type)?.[0];
    if (type === undefined)
      throw invalidArgument("BAD_RAFT_MESSAGE", `decode conf change: unknown type ${c.type}`);
    return { type, nodeId: c.nodeId };
  });
  return { transition, changes, context: p.context };
}

/** Encodes an entry. */
export function entryToProto(e: Entry): PbEntry {
  if (e.type === "normal") {
    return create(EntrySchema, {
      type: PbEntryType.NORMAL,
      term: BigInt(e.term),
      index: BigInt(e.index),
      data: e.data,
    });
  }
  return create(EntrySchema, {
    type: PbEntryType.CONF_CHANGE,
    term: BigInt(e.term),
    index: BigInt(e.index),
    change: confChangeToProto(e.change),
  });
}

/** Decodes an entry. */
export function entryFromProto(p: PbEntry): Entry {
  const term = toIndex(p.term, "entry term");
  const index = toIndex(p.index, "entry index");
  if (p.type === PbEntryType.NORMAL) return { type: "normal", term, index, data: p.data };
  if (p.type === PbEntryType.CONF_CHANGE)
    return { type: "confChange", term, index, change: confChangeFromProto(p.change) };
  throw invalidArgument("BAD_RAFT_MESSAGE", `decode entry ${index}: unknown type ${p.type}`);
}

/** Encodes a configuration. */
export function confStateToProto(cs: ConfState): PbConfState {
  return create(ConfStateSchema, {
    voters: [...cs.voters],
    learners: [...cs.learners],
    votersOutgoing: [...cs.votersOutgoing],
    learnersNext: [...cs.learnersNext],
    autoLeave: cs.autoLeave,
  });
}

/** Decodes a configuration. */
export function confStateFromProto(p: PbConfState | undefined): ConfState {
  return {
    voters: p?.voters ?? [],
    learners: p?.learners ?? [],
    votersOutgoing: p?.votersOutgoing ?? [],
    learnersNext: p?.learnersNext ?? [],
    autoLeave: p?.autoLeave ?? false,
  };
}

/** Encodes snapshot metadata. */
export function snapshotMetaToProto(m: SnapshotMetadata): PbSnapshotMetadata {
  return create(SnapshotMetadataSchema, {
    index: BigInt(m.index),
    term: BigInt(m.term),
    confState: confStateToProto(m.confState),
  });
}

/** Decodes snapshot metadata. */
export function snapshotMetaFromProto(p: PbSnapshotMetadata | undefined): SnapshotMetadata {
  if (p === undefined)
    throw invalidArgument("BAD_RAFT_MESSAGE", "decode snapshot: missing metadata");
  return {
    index: toIndex(p.index, "snapshot index"),
    term: toIndex(p.term, "snapshot term"),
    confState: confStateFromProto(p.confState),
  };
}

/** Encodes a Raft message; a snapshot's data is not included (it is streamed separately). */
export function messageToProto(m: Message): PbMessage {
  const p = create(MessageSchema, {
    type: toWire.get(m.type) ?? PbMessageType.UNSPECIFIED,
    group: m.group,
    from: m.from,
    to: m.to,
    term: BigInt(m.term),
  });
  switch (m.type) {
    case "app":
      p.index = BigInt(m.index);
      p.logTerm = BigInt(m.logTerm);
      p.commit = BigInt(m.commit);
      p.entries = m.entries.map(entryToProto);
      break;
    case "appResp":
      p.index = BigInt(m.index);
      p.reject = m.reject;
      p.rejectHint = BigInt(m.rejectHint);
      p.logTerm = BigInt(m.logTerm);
      break;
    case "vote":
    case "preVote":
      p.index = BigInt(m.index);
      p.logTerm = BigInt(m.logTerm);
      p.transfer = m.transfer;
      break;
    case "voteResp":
    case "preVoteResp":
      p.reject = m.reject;
      p.commit = BigInt(m.commit);
      p.commitTerm = BigInt(m.commitTerm);
      break;
    case "heartbeat":
      p.commit = BigInt(m.commit);
      p.context = m.context;
      p.sentTick = BigInt(m.sentTick);
      break;
    case "heartbeatResp":
      p.context = m.context;
      p.sentTick = BigInt(m.sentTick);
      break;
    case "snap":
      p.snapshot = snapshotMetaToProto(m.snapshot.metadata);
      break;
    case "timeoutNow":
      break;
    case "readIndex":
      p.context = m.context;
      break;
    case "readIndexResp":
      p.index = BigInt(m.index);
      p.context = m.context;
      break;
    case "transferLeader":
      p.target = m.target;
      break;
  }
  return p;
}

/**
 * Decodes a Raft message; a `snap` message gets `data` (the streamed snapshot bytes, which the
 * runtime already holds). Throws InvalidArgument for an unknown type or out-of-range number.
 */
export function messageFromProto(
  p: PbMessage,
  snapshotData: Uint8Array = new Uint8Array(0),
): Message {
  const type = fromWire.get(p.type);
  if (type === undefined)
    throw invalidArgument("BAD_RAFT_MESSAGE", `decode raft message: unknown type ${p.type}`);
  const base = { group: p.group, from: p.from, to: p.to, term: toIndex(p.term, "term") };
  const i = (v: bigint, f: string): number => toIndex(v, f);
  switch (type) {
    case "app":
      return {
        ...base,
        type,
        index: i(p.index, "index"),
        logTerm: i(p.logTerm, "logTerm"),
        commit: i(p.commit, "commit"),
        entries: p.entries.map(entryFromProto),
      };
    case "appResp":
      return {
        ...base,
        type,
        index: i(p.index, "index"),
        reject: p.reject,
        rejectHint: i(p.rejectHint, "rejectHint"),
        logTerm: i(p.logTerm, "logTerm"),
      };
    case "vote":
    case "preVote":
      return {
        ...base,
        type,
        index: i(p.index, "index"),
        logTerm: i(p.logTerm, "logTerm"),
        transfer: p.transfer,
      };
    case "voteResp":
    case "preVoteResp":
      return {
        ...base,
        type,
        reject: p.reject,
        commit: i(p.commit, "commit"),
        commitTerm: i(p.commitTerm, "commitTerm"),
      };
    case "heartbeat":
      return {
        ...base,
        type,
        commit: i(p.commit, "commit"),
        context: p.context,
        sentTick: Number(p.sentTick),
      };
    case "heartbeatResp":
      return { ...base, type, context: p.context, sentTick: Number(p.sentTick) };
    case "snap":
      return {
        ...base,
        type,
        snapshot: { metadata: snapshotMetaFromProto(p.snapshot), data: snapshotData },
      };
    case "timeoutNow":
      return { ...base, type };
    case "readIndex":
      return { ...base, type, context: p.context };
    case "readIndexResp":
      return { ...base, type, index: i(p.index, "index"), context: p.context };
    case "transferLeader":
      return { ...base, type, target: p.target };
  }
}
