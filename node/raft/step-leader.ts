import { answerRead, releasePendingReadIndex, respondToReadIndex } from "./raft-reads.js";
import { maybeFinishLeaving } from "./raft-membership.js";
import { type AppRespMessage, type HeartbeatRespMessage, type Message } from "./types.js";
import { jointVoteResult } from "./quorum/index.js";
import type { Raft } from "./raft.js";
import type { Progress } from "./tracker/index.js";

/** Handles a message as the leader. */
export function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case "readIndex":
      handleReadIndexRequest(r, m.from, m.context);
      return;
    case "transferLeader":
      r.transferLeadership(m.target);
      return;
    case "appResp":
    case "heartbeatResp":
      break;
    case "app":
    case "heartbeat":
    case "snap":
    case "vote":
    case "preVote":
    case "voteResp":
    case "preVoteResp":
    case "timeoutNow":
    case "readIndexResp":
      // Same-term messages a leader has no use for (a stale vote answer, for example).
      return;
  }
  const pr = r.trk.progress.get(m.from);
  if (pr === undefined) {
    r.cfg.logger.debug(`${r.id} no progress available for ${m.from}`);
    return;
  }
  if (m.type === "appResp") handleAppendResponse(r, m, pr);
  else handleHeartbeatResponse(r, m, pr);
}

/** Serves (or queues) a ReadIndex request from `from` (None for a local one). */
export function handleReadIndexRequest(r: Raft, from: bigint, context: Uint8Array): void {
  const req = { from, context };
  if (!r.committedEntryInCurrentTerm()) {
    // The commit index is only known to be current once an entry of this term committed.
    r.pendingReadIndex.push(req);
    return;
  }
  respondToReadIndex(r, req);
}

function handleAppendResponse(r: Raft, m: AppRespMessage, pr: Progress): void {
  pr.recentActive = true;
  if (m.reject) {
    r.cfg.logger.debug(
      `${r.id} received appResp(rejected, hint: (index ${m.rejectHint}, term ${m.logTerm})) from ${m.from} for index ${m.index}`,
    );
    let nextProbe = m.rejectHint;
    if (m.logTerm > 0) {
      // Skip every entry of terms the follower cannot share with us (thesis §5.3).
      nextProbe = r.raftLog.findConflictByTerm(m.rejectHint, m.logTerm)[0];
    }
    if (pr.maybeDecrTo(m.index, nextProbe)) {
      if (pr.state === "replicate") pr.becomeProbe();
      r.maybeSendAppend(m.from, true);
    }
    return;
  }
  const wasPaused = pr.isPaused();
  if (!pr.maybeUpdate(m.index) && !(pr.match === m.index && pr.state === "probe")) return;
  switch (pr.state) {
    case "probe":
      pr.becomeReplicate();
      break;
    case "snapshot":
      // Any index that lets the follower continue from the log ends the snapshot.
      if (pr.match + 1 >= r.raftLog.firstIndex()) {
        pr.becomeProbe();
        pr.becomeReplicate();
      }
      break;
    case "replicate":
      pr.inflights.freeLE(m.index);
      break;
  }
  if (r.maybeCommit()) {
    releasePendingReadIndex(r);
    r.bcastAppend();
  } else if (wasPaused) {
    // The window opened: the follower may have been waiting.
    r.maybeSendAppend(m.from, true);
  }
  // Pipeline as much as flow control allows (thesis §10.2.1).
  while (r.maybeSendAppend(m.from, false)) {
    /* keep sending */
  }
  if (m.from === r.leadTransferee && pr.match === r.raftLog.lastIndex()) {
    r.cfg.logger.info(`${r.id} sent timeoutNow to ${m.from} after received appResp`);
    r.send({ type: "timeoutNow", to: m.from });
  }
}

function handleHeartbeatResponse(r: Raft, m: HeartbeatRespMessage, pr: Progress): void {
  pr.recentActive = true;
  pr.msgAppFlowPaused = false;
  if (m.sentTick > pr.ackedHeartbeatTick) pr.ackedHeartbeatTick = m.sentTick;
  // A lost append would keep a full window full forever: the follower is alive, so free one
  // slot and let the next append find the gap (it is rejected and the leader probes).
  if (pr.state === "replicate" && pr.inflights.full()) pr.inflights.freeFirstOne();
  if (pr.match < r.raftLog.lastIndex() || pr.state === "probe") r.maybeSendAppend(m.from, true);
  maybeFinishLeaving(r);
  if (r.role !== "leader") return;
  if (r.readOnly.option !== "safe" && r.readOnly.pendingCount() === 0) return;
  if (m.context.length === 0) return;
  const acks = r.readOnly.recvAck(m.from, m.context);
  if (acks === undefined) return;
  const votes = new Map<bigint, boolean>();
  for (const id of acks) votes.set(id, true);
  if (jointVoteResult(r.trk.config.voters, votes) !== "won") return;
  for (const rs of r.readOnly.advance(m.context)) answerRead(r, rs.request, rs.index);
}

/** Handles a report from the transport that a snapshot to `to` finished or failed. */
export function reportSnapshot(r: Raft, to: bigint, failed: boolean): void {
  const pr = r.trk.progress.get(to);
  if (r.role !== "leader" || pr?.state !== "snapshot") return;
  if (failed) pr.pendingSnapshot = 0;
  // Probe from the snapshot's index (or from match after a failure). Wait for a heartbeat
  // answer before the next probe, so a failing follower is not flooded.
  pr.becomeProbe();
  pr.msgAppFlowPaused = true;
  r.cfg.logger.debug(
    `${r.id} snapshot ${failed ? "failed" : "succeeded"}, resumed sending replication messages to ${to} [${pr.toString()}]`,
  );
}

/** Handles a report from the transport that `to` could not be reached. */
export function reportUnreachable(r: Raft, to: bigint): void {
  const pr = r.trk.progress.get(to);
  if (r.role !== "leader" || pr === undefined) return;
  // Optimistic pipelining to an unreachable node wastes the window: probe instead.
  if (pr.state === "replicate") pr.becomeProbe();
  r.cfg.logger.debug(
    `${r.id} failed to send message to ${to} because it is unreachable [${pr.toString()}]`,
  );
}
