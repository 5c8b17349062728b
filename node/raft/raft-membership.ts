/** Membership changes as the core applies them (Raft thesis §4), and snapshot restore (§5). */
import { Changer, restoreConfig, type ConfigAndProgress } from "./confchange/index.js";
import { InvariantError, RaftError } from "./errors.js";
import { jointVoteResult, sortIds } from "./quorum/index.js";
import type { Raft } from "./raft.js";
import { releasePendingReadIndex } from "./raft-reads.js";
import { confStateOf, describeConfig } from "./tracker/index.js";
import { None, type ConfChange, type ConfState, type NodeId, type Snapshot } from "./types.js";

/** Applies a committed conf change and returns the new configuration. */
export function applyConfChange(r: Raft, cc: ConfChange): ConfState {
  let next: ConfigAndProgress;
  try {
    next = new Changer({ config: r.trk.config, progress: r.trk.progress }, (l) =>
      r.newProgress(l),
    ).apply(cc);
  } catch (err) {
    if (err instanceof RaftError)
      throw new InvariantError(`committed conf change is invalid: ${err.message}`);
    throw err;
  }
  return switchToConfig(r, next);
}

/** Installs a configuration and reacts to it (step down if removed, commit, replicate). */
export function switchToConfig(r: Raft, next: ConfigAndProgress): ConfState {
  r.trk.config = next.config;
  r.trk.progress = next.progress;
  r.cfg.logger.info(`${r.id} switched to configuration ${describeConfig(next.config)}`);
  const cs = confStateOf(next.config);
  const self = r.trk.progress.get(r.id);
  r.isLearner = self?.isLearner ?? false;
  if ((self === undefined || r.isLearner) && r.role === "leader") {
    // A leader removed or demoted steps down once the change is committed (thesis §4.2.2).
    // Members apply a configuration only once they learn it is committed, and until then they
    // still count this node's vote; so it keeps replicating (refusing proposals) until a
    // quorum of the new configuration has acknowledged a heartbeat that carried the commit.
    if (r.cfg.stepDownOnRemoval) {
      r.leavingAt = r.tickCount;
      r.leavingIndex = r.raftLog.committed;
      r.bcastAppend();
    }
    return cs;
  }
  if (r.role !== "leader" || cs.voters.length === 0) return cs;
  if (r.maybeCommit()) {
    releasePendingReadIndex(r);
    r.bcastAppend();
  } else {
    for (const id of r.trk.memberIds()) if (id !== r.id) r.maybeSendAppend(id, false);
  }
  if (r.leadTransferee !== None && !r.trk.isVoter(r.leadTransferee)) r.abortLeaderTransfer();
  return cs;
}

/** Restores from a snapshot sent by the leader; returns whether it was accepted (§7). */
export function restore(r: Raft, snap: Snapshot): boolean {
  const meta = snap.metadata;
  if (meta.index <= r.raftLog.committed) return false;
  if (r.role !== "follower") {
    // Only a leader of this term sends snapshots, so this node must follow it.
    r.becomeFollower(r.term + 1, None);
    return false;
  }
  const cs = meta.confState;
  const members = [...cs.voters, ...cs.learners, ...cs.votersOutgoing];
  if (!members.includes(r.id)) {
    r.cfg.logger.warn(
      `${r.id} attempted to restore snapshot but it is not in the ConfState ${sortIds(members).join(",")}`,
    );
    return false;
  }
  if (r.raftLog.matchTerm(meta.index, meta.term)) {
    // The log already has the entry: fast-forward commit instead (etcd).
    r.raftLog.commitTo(meta.index);
    return false;
  }
  r.raftLog.restore(snap);
  switchToConfig(
    r,
    restoreConfig(cs, (l) => r.newProgress(l)),
  );
  const self = r.trk.progress.get(r.id);
  if (self !== undefined) self.match = 0;
  r.cfg.logger.info(
    `${r.id} [commit: ${r.raftLog.committed}] restored snapshot [index: ${meta.index}, term: ${meta.term}]`,
  );
  return true;
}

/**
 * Steps down a removed leader once a quorum of the new configuration acknowledged a heartbeat
 * sent after the removal was applied while holding the removal entry: that heartbeat carried a
 * commit index covering the removal, so they will apply it and elect among themselves.
 */
export function maybeFinishLeaving(r: Raft): void {
  const at = r.leavingAt;
  if (at === undefined || r.role !== "leader") return;
  const votes = new Map<NodeId, boolean>();
  for (const [id, pr] of r.trk.progress) {
    votes.set(id, pr.ackedHeartbeatTick > at && pr.match >= r.leavingIndex);
  }
  if (jointVoteResult(r.trk.config.voters, votes) !== "won") return;
  r.cfg.logger.info(
    `${r.id} stepped down: its removal is known to a quorum of the new configuration`,
  );
  r.becomeFollower(r.term, None);
}
