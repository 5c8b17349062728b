import { restore } from "./raft-membership.js";
import {
  None,
  type AppMessage,
  type HeartbeatMessage,
  type Message,
  type SnapMessage,
} from "./types.js";
import type { Raft } from "./raft.js";

/** Handles a message as a follower. */
export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case "app":
      r.electionElapsed = 0;
      r.lead = m.from;
      handleAppendEntries(r, m);
      return;
    case "heartbeat":
      r.electionElapsed = 0;
      r.lead = m.from;
      handleHeartbeat(r, m);
      return;
    case "snap":
      r.electionElapsed = 0;
      r.lead = m.from;
      handleSnapshot(r, m);
      return;
    case "transferLeader":
      if (r.lead === None) {
        r.cfg.logger.info(`${r.id} no leader at term ${r.term}; dropping leader transfer msg`);
        return;
      }
      r.send({ type: "transferLeader", to: r.lead, target: m.target });
      return;
    case "timeoutNow":
      r.cfg.logger.info(
        `${r.id} [term ${r.term}] received timeoutNow from ${m.from} and starts an election to get leadership`,
      );
      // Leadership transfer never uses pre-vote: the leader asked for it (thesis §3.10).
      r.hup("transfer");
      return;
    case "readIndex":
      if (r.lead === None) {
        r.cfg.logger.info(`${r.id} no leader at term ${r.term}; dropping index reading msg`);
        return;
      }
      r.send({ type: "readIndex", to: r.lead, context: m.context });
      return;
    case "readIndexResp":
      r.readStates.push({ index: m.index, context: m.context });
      return;
    case "appResp":
    case "heartbeatResp":
    case "voteResp":
    case "preVoteResp":
    case "vote":
    case "preVote":
      return;
  }
}

/** AppendEntries receiver (Raft paper §5.3), with the fast-backtracking hint of thesis §5.3. */
export function handleAppendEntries(r: Raft, m: AppMessage): void {
  const log = r.raftLog;
  if (m.index < log.committed) {
    r.send({
      type: "appResp",
      to: m.from,
      index: log.committed,
      reject: false,
      rejectHint: 0,
      logTerm: 0,
    });
    return;
  }
  const lastNew = log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (lastNew !== undefined) {
    r.send({
      type: "appResp",
      to: m.from,
      index: lastNew,
      reject: false,
      rejectHint: 0,
      logTerm: 0,
    });
    return;
  }
  // Point the leader at the last entry that can possibly match: the last index <= m.index whose
  // term is <= m.logTerm. The leader can then skip a whole term of mismatches at once.
  const hintIndex = Math.min(m.index, log.lastIndex());
  const [index, term] = log.findConflictByTerm(hintIndex, m.logTerm);
  r.cfg.logger.debug(
    `${r.id} [logterm: ${log.zeroTermOnOutOfBounds(m.index)}, index: ${m.index}] rejected app [logterm: ${m.logTerm}, index: ${m.index}] from ${m.from}`,
  );
  r.send({
    type: "appResp",
    to: m.from,
    index: m.index,
    reject: true,
    rejectHint: index,
    logTerm: term,
  });
}

/** Heartbeat receiver: commit up to what the leader knows this node has. */
export function handleHeartbeat(r: Raft, m: HeartbeatMessage): void {
  r.raftLog.commitTo(m.commit);
  r.send({ type: "heartbeatResp", to: m.from, context: m.context, sentTick: m.sentTick });
}

/** InstallSnapshot receiver (Raft paper §7). */
export function handleSnapshot(r: Raft, m: SnapMessage): void {
  const { index, term } = m.snapshot.metadata;
  if (restore(r, m.snapshot)) {
    r.cfg.logger.info(
      `${r.id} [commit: ${r.raftLog.committed}] restored snapshot [index: ${index}, term: ${term}]`,
    );
    r.send({
      type: "appResp",
      to: m.from,
      index: r.raftLog.lastIndex(),
      reject: false,
      rejectHint: 0,
      logTerm: 0,
    });
  } else {
    r.cfg.logger.info(
      `${r.id} [commit: ${r.raftLog.committed}] ignored snapshot [index: ${index}, term: ${term}]`,
    );
    r.send({
      type: "appResp",
      to: m.from,
      index: r.raftLog.committed,
      reject: false,
      rejectHint: 0,
      logTerm: 0,
    });
  }
}
