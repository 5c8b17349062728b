import { inLease } from "./raft-reads.js";
import { None, type Message } from "./types.js";
import type { Raft } from "./raft.js";
import { stepCandidate } from "./step-candidate.js";
import { stepFollower } from "./step-follower.js";
import { stepLeader } from "./step-leader.js";

/**
 * Steps one peer message through the term rules common to all roles (Raft paper §5.1, thesis
 * §4.2.3 and §9.6), then hands it to the role's handler.
 */
export function step(r: Raft, m: Message): void {
  if (m.term === 0) {
    // Forwarded local requests (readIndex, transferLeader) carry no term.
  } else if (m.term > r.term) {
    if (m.type === "vote" || m.type === "preVote") {
      // A node that heard from a leader recently ignores disruptive candidates, unless the
      // leader itself asked for the election (transfer).
      if (!m.transfer && inLease(r)) {
        r.cfg.logger.info(
          `${r.id} [logterm: ${r.raftLog.lastTerm()}, index: ${r.raftLog.lastIndex()}, vote: ${r.vote}] ignored ${m.type} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${r.term}: lease is not expired (remaining ticks: ${r.cfg.electionTick - r.electionElapsed})`,
        );
        return;
      }
    }
    if (m.type === "preVote") {
      // Never change term on a pre-vote.
    } else if (m.type === "preVoteResp" && !m.reject) {
      // The term is bumped when the pre-election is won, not on each grant.
    } else {
      r.cfg.logger.info(
        `${r.id} [term: ${r.term}] received a ${m.type} message with higher term from ${m.from} [term: ${m.term}]`,
      );
      const fromLeader = m.type === "app" || m.type === "heartbeat" || m.type === "snap";
      r.becomeFollower(m.term, fromLeader ? m.from : None);
    }
  } else if (m.term < r.term) {
    if ((r.cfg.checkQuorum || r.cfg.preVote) && (m.type === "heartbeat" || m.type === "app")) {
      // A stale leader cut off by a partition learns the new term from this answer, instead of
      // the rest of the cluster being disrupted by its election later (etcd).
      r.send({ type: "appResp", to: m.from, index: 0, reject: false, rejectHint: 0, logTerm: 0 });
    } else if (m.type === "preVote") {
      r.send({ type: "preVoteResp", to: m.from, reject: true, ...commitOf(r) });
    }
    // Everything else from an old term is ignored.
    return;
  }

  if (m.type === "vote" || m.type === "preVote") {
    handleVoteRequest(r, m);
    return;
  }
  if (m.type === "voteResp" || m.type === "preVoteResp") learnCommit(r, m.commit, m.commitTerm);
  switch (r.role) {
    case "leader":
      stepLeader(r, m);
      return;
    case "candidate":
    case "preCandidate":
      stepCandidate(r, m);
      return;
    case "follower":
      stepFollower(r, m);
      return;
  }
}

/** Grants a vote per Raft paper §5.2 and §5.4.1 (the candidate's log is at least as up-to-date). */
function handleVoteRequest(r: Raft, m: Extract<Message, { type: "vote" | "preVote" }>): void {
  const respType = m.type === "vote" ? "voteResp" : "preVoteResp";
  const canVote =
    r.vote === m.from ||
    (r.vote === None && r.lead === None) ||
    // A pre-vote for a future term does not depend on this term's vote.
    (m.type === "preVote" && m.term > r.term);
  if (canVote && r.raftLog.isUpToDate(m.index, m.logTerm)) {
    r.cfg.logger.info(
      `${r.id} cast ${m.type} for ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${r.term}`,
    );
    // The answer carries the request's term so that a pre-candidate recognises it.
    r.send({ type: respType, to: m.from, term: m.term, reject: false, ...commitOf(r) });
    if (m.type === "vote") {
      r.electionElapsed = 0;
      r.vote = m.from;
    }
  } else {
    r.cfg.logger.info(
      `${r.id} rejected ${m.type} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${r.term}`,
    );
    r.send({ type: respType, to: m.from, term: r.term, reject: true, ...commitOf(r) });
  }
}

/** Returns this node's commit index and that entry's term, for vote answers. */
function commitOf(r: Raft): { commit: number; commitTerm: number } {
  const commit = r.raftLog.committed;
  return { commit, commitTerm: r.raftLog.zeroTermOnOutOfBounds(commit) };
}

/**
 * Advances commit to what a peer reported as committed, if this log holds that very entry:
 * by the Log Matching property (§5.3) everything up to it is then committed here too.
 */
function learnCommit(r: Raft, commit: number, commitTerm: number): void {
  const log = r.raftLog;
  if (commit <= log.committed || commitTerm === 0 || !log.matchTerm(commit, commitTerm)) return;
  r.cfg.logger.info(`${r.id} learned from a vote answer that ${commit} is committed`);
  log.commitTo(commit);
}
