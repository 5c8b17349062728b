import { handleAppendEntries, handleHeartbeat, handleSnapshot } from "./step-follower.js";
import type { Raft } from "./raft.js";
import type { Message } from "./types.js";

/** Handles a message as a candidate or pre-candidate (Raft paper §5.2). */
export function stepCandidate(r: Raft, m: Message): void {
  const myRespType = r.role === "preCandidate" ? "preVoteResp" : "voteResp";
  switch (m.type) {
    case "app":
      // A leader of this term exists (§5.2: "if AppendEntries received from new leader").
      r.becomeFollower(m.term, m.from);
      handleAppendEntries(r, m);
      return;
    case "heartbeat":
      r.becomeFollower(m.term, m.from);
      handleHeartbeat(r, m);
      return;
    case "snap":
      r.becomeFollower(m.term, m.from);
      handleSnapshot(r, m);
      return;
    case "voteResp":
    case "preVoteResp": {
      if (m.type !== myRespType) return;
      const result = r.poll(m.from, m.type, !m.reject);
      if (result === "won") {
        if (r.role === "preCandidate") {
          r.campaign("election");
        } else {
          r.becomeLeader();
          r.bcastAppend();
        }
      } else if (result === "lost") {
        r.becomeFollower(r.term, 0n);
      }
      return;
    }
    case "timeoutNow":
      r.cfg.logger.debug(
        `${r.id} [term ${r.term} state ${r.role}] ignored timeoutNow from ${m.from}`,
      );
      return;
    case "appResp":
    case "heartbeatResp":
    case "readIndex":
    case "readIndexResp":
    case "transferLeader":
    case "vote":
    case "preVote":
      // No leader known: requests are dropped and the requester retries.
      return;
  }
}
