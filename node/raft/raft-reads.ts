/** Linearizable reads on the leader (Raft thesis §6.4): ReadIndex rounds and leases. */
import { jointCommittedIndex } from "./quorum/index.js";
import type { ReadIndexRequest } from "./read-only.js";
import type { Raft } from "./raft.js";
import { None, type Index } from "./types.js";

/** Answers reads that waited for the leader's first commit in its term. */
export function releasePendingReadIndex(r: Raft): void {
  if (r.pendingReadIndex.length === 0 || !r.committedEntryInCurrentTerm()) return;
  const pending = r.pendingReadIndex;
  r.pendingReadIndex = [];
  for (const req of pending) respondToReadIndex(r, req);
}

/** Serves a read request on the leader (safe: after a quorum heartbeat; lease: now). */
export function respondToReadIndex(r: Raft, req: ReadIndexRequest): void {
  const index = r.raftLog.committed;
  if (r.trk.isSingleton()) {
    answerRead(r, req, index);
    return;
  }
  if (r.readOnly.option === "leaseBased" && leaseValid(r)) {
    answerRead(r, req, index);
    return;
  }
  r.readOnly.addRequest(index, req);
  r.readOnly.recvAck(r.id, req.context);
  r.bcastHeartbeat(req.context);
}

/** Delivers a read answer locally or to the follower that asked. */
export function answerRead(r: Raft, req: ReadIndexRequest, index: Index): void {
  if (req.from === None || req.from === r.id) {
    r.readStates.push({ index, context: req.context });
  } else {
    r.send({ type: "readIndexResp", to: req.from, index, context: req.context });
  }
}

/**
 * Returns whether the leader's read lease holds: a quorum acknowledged heartbeats sent less
 * than an election timeout ago, and no transfer is under way (thesis §6.4.1).
 */
export function leaseValid(r: Raft): boolean {
  if (!r.cfg.checkQuorum || r.leadTransferee !== None) return false;
  const acked = jointCommittedIndex(r.trk.config.voters, (id) =>
    id === r.id ? r.tickCount : r.trk.progress.get(id)?.ackedHeartbeatTick,
  );
  return r.tickCount - acked < r.cfg.electionTick;
}

/**
 * Whether a follower must ignore a vote request because it heard from a leader less than an
 * election timeout ago (thesis §4.2.3, §9.6). In lease mode a node that just started also
 * waits, since it may have promised a lease before it crashed.
 */
export function inLease(r: Raft): boolean {
  if (!r.cfg.checkQuorum || r.electionElapsed >= r.cfg.electionTick) return false;
  if (r.lead !== None) return true;
  return r.cfg.readOnlyOption === "leaseBased" && r.tickCount < r.cfg.electionTick;
}
