import {
  isRaftError,
  type Entry,
  type Index,
  type NodeId,
  type Term,
} from "../../../node/raft/index.js";
import { entryLabel, type SimNode } from "./sim-node.js";

/** A broken safety property: the simulation stops and reports it. */
export class Violation extends Error {
  override readonly name = "Violation";
}

function fail(message: string): never {
  throw new Violation(message);
}

/**
 * The safety properties of Raft (paper Figure 3) checked against what the simulated nodes do:
 * election safety, log matching, leader completeness, state machine safety, and linearizable
 * ReadIndex reads.
 */
export class Checker {
  readonly #leaders = new Map<Term, NodeId>();
  /** The first applied (term, label, hash) seen at each index: the canonical history. */
  readonly #term: Term[] = [0];
  readonly #label: string[] = [""];
  readonly #hash: number[] = [0];
  /** Writes acknowledged to clients, in acknowledgment order. */
  readonly acked: string[] = [];
  readonly #ackedSet = new Set<string>();

  /** Returns the highest index applied anywhere (every index up to it is committed). */
  maxApplied(): Index {
    return this.#term.length - 1;
  }

  /** Election safety: at most one leader per term (§5.2). */
  onLeader(node: SimNode, term: Term): void {
    const prev = this.#leaders.get(term);
    if (prev !== undefined && prev !== node.id) {
      fail(`election safety: nodes ${prev} and ${node.id} are both leaders of term ${term}`);
    }
    this.#leaders.set(term, node.id);
    this.checkLeaderCompleteness(node, term);
  }

  /** State machine safety: every node applies the same entry at each index (§5.4.3). */
  onApply(node: SimNode, e: Entry, label: string, hash: number): void {
    const known = this.#term[e.index];
    if (known === undefined) {
      // Every node applies in order from a snapshot some node produced, so no gaps can appear.
      if (e.index !== this.#term.length) {
        fail(`node ${node.id} applied ${e.index} but the history ends at ${this.#term.length - 1}`);
      }
      this.#term[e.index] = e.term;
      this.#label[e.index] = label;
      this.#hash[e.index] = hash;
      return;
    }
    if (known !== e.term || this.#label[e.index] !== label || this.#hash[e.index] !== hash) {
      fail(
        `state machine safety: node ${node.id} applied ${e.term}/${e.index} "${label}" (hash ${hash}) but ${known}/${e.index} "${this.#label[e.index]}" (hash ${this.#hash[e.index]}) was applied before`,
      );
    }
  }

  /** A restored snapshot must equal the canonical state at its index. */
  onSnapshotRestored(node: SimNode, index: Index, hash: number): void {
    const known = this.#hash[index];
    if (known === undefined)
      fail(`node ${node.id} restored a snapshot at ${index}, an index nobody applied`);
    if (known !== hash)
      fail(`node ${node.id} restored a snapshot at ${index} with hash ${hash}, expected ${known}`);
  }

  /** Records a write acknowledged to its client. */
  onAck(write: string): void {
    if (this.#ackedSet.has(write)) fail(`write ${write} was acknowledged twice`);
    this.#ackedSet.add(write);
    this.acked.push(write);
  }

  /**
   * Linearizable reads: a read that began after `ackedBefore` writes were acknowledged must see
   * all of them (thesis §6.4).
   */
  checkRead(node: SimNode, readId: string, ackedBefore: number, readIndex: Index): void {
    for (let i = 0; i < ackedBefore; i++) {
      const w = this.acked[i] as string;
      if (!node.sm.writes.has(w)) {
        fail(
          `linearizability: read ${readId} on node ${node.id} at read index ${readIndex} (applied ${node.sm.index}) misses write ${w}, acknowledged before the read began`,
        );
      }
    }
  }

  /** Leader completeness: a new leader's log holds every entry applied anywhere (§5.4). */
  checkLeaderCompleteness(node: SimNode, term: Term): void {
    const log = node.raw.raft.raftLog;
    const max = this.maxApplied();
    if (max > log.lastIndex()) {
      fail(
        `leader completeness: leader ${node.id} of term ${term} has last index ${log.lastIndex()} < applied index ${max}`,
      );
    }
    for (let i = Math.max(1, log.firstIndex()); i <= max; i++) {
      const t = log.term(i);
      if (t !== this.#term[i]) {
        fail(
          `leader completeness: leader ${node.id} of term ${term} has term ${t} at ${i}, committed term ${this.#term[i]}`,
        );
      }
    }
  }

  /** Log matching: two logs with the same term at an index agree on every entry up to it (§5.3). */
  checkLogMatching(a: SimNode, b: SimNode): void {
    const la = a.raw.raft.raftLog;
    const lb = b.raw.raft.raftLog;
    const lo = Math.max(la.firstIndex(), lb.firstIndex());
    const hi = Math.min(la.lastIndex(), lb.lastIndex());
    let top = -1;
    for (let i = hi; i >= lo; i--) {
      if (la.term(i) === lb.term(i)) {
        top = i;
        break;
      }
    }
    if (top < lo) return;
    const ea = la.slice(lo, top + 1, Number.MAX_SAFE_INTEGER);
    const eb = lb.slice(lo, top + 1, Number.MAX_SAFE_INTEGER);
    for (let k = 0; k < ea.length; k++) {
      const x = ea[k] as Entry;
      const y = eb[k] as Entry;
      if (x.term !== y.term || entryLabel(x) !== entryLabel(y)) {
        fail(
          `log matching: nodes ${a.id} and ${b.id} agree on term ${la.term(top)} at ${top} but differ at ${x.index}: ${x.term} "${entryLabel(x)}" vs ${y.term} "${entryLabel(y)}"`,
        );
      }
    }
  }

  /** Committed entries in every log match the canonical history. */
  checkCommittedPrefix(node: SimNode): void {
    const log = node.raw.raft.raftLog;
    const hi = Math.min(log.committed, this.maxApplied());
    for (let i = Math.max(1, log.firstIndex(), hi - 64); i <= hi; i++) {
      let t: Term;
      try {
        t = log.term(i);
      } catch (err) {
        if (isRaftError(err)) continue;
        throw err;
      }
      if (t !== this.#term[i]) {
        fail(
          `node ${node.id} has committed term ${t} at ${i}, but ${this.#term[i]} was applied there`,
        );
      }
    }
  }
}
