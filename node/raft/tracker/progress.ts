import { Inflights } from "./inflights.js";
import type { Index } from "../types.js";

/**
 * How the leader replicates to a follower (etcd's tracker/progress design):
 * - `probe`: one append at a time until the follower's match is found;
 * - `replicate`: optimistic pipelining, bounded by the inflights window;
 * - `snapshot`: a snapshot is on its way; nothing else is sent.
 */
export type ProgressState = "probe" | "replicate" | "snapshot";

/**
 * The leader's view of one follower.
 * Invariant: 0 <= match < next.
 */
export class Progress {
  /** The highest index known to be replicated on the follower. */
  match: Index;
  /** The index of the next entry to send. */
  next: Index;
  state: ProgressState = "probe";
  /** In `snapshot` state: the index of the snapshot being sent. */
  pendingSnapshot: Index = 0;
  /** Whether the follower was heard from since the last check-quorum round. */
  recentActive = false;
  /** In `probe` state: an append is out, wait for its answer (or a heartbeat response). */
  msgAppFlowPaused = false;
  /** Whether the member is a learner (replicated to, never counted). */
  isLearner: boolean;
  /** The leader tick at which the newest heartbeat acknowledged by this follower was sent. */
  ackedHeartbeatTick = Number.NEGATIVE_INFINITY;
  readonly inflights: Inflights;

  /** Creates a progress in `probe` state. */
  constructor(opts: {
    match: Index;
    next: Index;
    isLearner: boolean;
    maxInflight: number;
    maxInflightBytes: number;
  }) {
    this.match = opts.match;
    this.next = opts.next;
    this.isLearner = opts.isLearner;
    this.inflights = new Inflights(opts.maxInflight, opts.maxInflightBytes);
  }

  /** Returns an independent copy (a configuration change works on copies). */
  clone(): Progress {
    const copy = new Progress({
      match: this.match,
      next: this.next,
      isLearner: this.isLearner,
      maxInflight: 1,
      maxInflightBytes: 0,
    });
    copy.state = this.state;
    copy.pendingSnapshot = this.pendingSnapshot;
    copy.recentActive = this.recentActive;
    copy.msgAppFlowPaused = this.msgAppFlowPaused;
    copy.ackedHeartbeatTick = this.ackedHeartbeatTick;
    (copy as { inflights: Inflights }).inflights = this.inflights.clone();
    return copy;
  }

  /** Moves to `probe`: after a rejection, a snapshot, or an unreachable report. */
  becomeProbe(): void {
    if (this.state === "snapshot") {
      // The snapshot's index is a better lower bound for next than match.
      const pending = this.pendingSnapshot;
      this.#reset("probe");
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.#reset("probe");
      this.next = this.match + 1;
    }
  }

  /** Moves to `replicate`: the follower's match is known, pipeline from there. */
  becomeReplicate(): void {
    this.#reset("replicate");
    this.next = this.match + 1;
  }

  /** Moves to `snapshot`, sending the snapshot at `snapshotIndex`. */
  becomeSnapshot(snapshotIndex: Index): void {
    this.#reset("snapshot");
    this.pendingSnapshot = snapshotIndex;
  }

  /**
   * Records entries sent to the follower: `count` entries ending at `lastIndex`, `bytes` bytes.
   * In `replicate` the next index advances optimistically (pipelining); in `probe` the flow
   * pauses until the follower answers.
   */
  sentEntries(count: number, lastIndex: Index, bytes: number): void {
    if (count === 0) return;
    if (this.state === "replicate") {
      this.next = lastIndex + 1;
      this.inflights.add(lastIndex, bytes);
    } else if (this.state === "probe") {
      this.msgAppFlowPaused = true;
    }
  }

  /**
   * Records an acknowledgment of index `n`. Returns whether match advanced.
   */
  maybeUpdate(n: Index): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.msgAppFlowPaused = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /**
   * Handles a rejection of the append at `rejected`, with the follower's hint `matchHint` of
   * the last index that may match. Returns false if the rejection is stale.
   */
  maybeDecrTo(rejected: Index, matchHint: Index): boolean {
    if (this.state === "replicate") {
      // Stale unless it rejects something beyond what is known to match.
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // In probe only the latest probe (next - 1) counts.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /** Returns whether sending appends to this follower is paused (flow control). */
  isPaused(): boolean {
    switch (this.state) {
      case "probe":
        return this.msgAppFlowPaused;
      case "replicate":
        return this.inflights.full();
      case "snapshot":
        return true;
    }
  }

  /** Returns a one-line description for logs and status. */
  toString(): string {
    const paused = this.isPaused() ? " paused" : "";
    const snap = this.state === "snapshot" ? ` pendingSnap=${this.pendingSnapshot}` : "";
    const learner = this.isLearner ? " learner" : "";
    return `${this.state} match=${this.match} next=${this.next}${learner}${paused}${snap} inflight=${this.inflights.count()}`;
  }

  #reset(state: ProgressState): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }
}
