import { RaftError, RaftErrorCode } from "../errors.js";
import type { Progress } from "../tracker/index.js";
import { isJoint, type TrackerConfig } from "../tracker/index.js";
import type { ConfChange, ConfChangeSingle, ConfState, Index, NodeId } from "../types.js";

/** A configuration together with the progress of every member it names. */
export interface ConfigAndProgress {
  readonly config: TrackerConfig;
  readonly progress: Map<NodeId, Progress>;
}

/** Creates the progress of a member added at `lastIndex`. */
export type ProgressFactory = (isLearner: boolean) => Progress;

interface Mutable {
  incoming: Set<NodeId>;
  outgoing: Set<NodeId>;
  learners: Set<NodeId>;
  learnersNext: Set<NodeId>;
  autoLeave: boolean;
  progress: Map<NodeId, Progress>;
}

const invalid = (message: string): RaftError => new RaftError(RaftErrorCode.InvalidConfig, message);

/**
 * Returns whether `cc` enters a joint configuration and, if so, whether it leaves it
 * automatically (etcd's ConfChangeV2.EnterJoint).
 */
export function entersJoint(cc: ConfChange): { joint: boolean; autoLeave: boolean } {
  if (cc.transition !== "auto" || cc.changes.length > 1) {
    return { joint: true, autoLeave: cc.transition !== "explicit" };
  }
  return { joint: false, autoLeave: false };
}

/** Returns whether `cc` asks to leave the joint configuration. */
export function leavesJoint(cc: ConfChange): boolean {
  return cc.changes.length === 0;
}

/**
 * Computes configuration transitions (thesis §4.1 single-server changes, §4.3 joint consensus)
 * without mutating its input; throws INVALID_CONFIG for a change that is not allowed.
 */
export class Changer {
  readonly #base: ConfigAndProgress;
  readonly #newProgress: ProgressFactory;

  /** Creates a changer over the current configuration. */
  constructor(base: ConfigAndProgress, newProgress: ProgressFactory) {
    this.#base = base;
    this.#newProgress = newProgress;
  }

  /** Applies `cc` as the application does when the entry is committed. */
  apply(cc: ConfChange): ConfigAndProgress {
    if (leavesJoint(cc)) return this.leaveJoint();
    const { joint, autoLeave } = entersJoint(cc);
    return joint ? this.enterJoint(autoLeave, cc.changes) : this.simple(cc.changes);
  }

  /** Enters a joint configuration: outgoing = current voters, incoming = voters after `changes`. */
  enterJoint(autoLeave: boolean, changes: readonly ConfChangeSingle[]): ConfigAndProgress {
    const m = this.#copy();
    if (m.outgoing.size > 0) throw invalid("cannot enter a joint configuration: already joint");
    if (m.incoming.size === 0) {
      throw invalid("cannot enter a joint configuration: there are no voters to start from");
    }
    m.outgoing = new Set(m.incoming);
    this.#applyAll(m, changes);
    m.autoLeave = autoLeave;
    return this.#finish(m);
  }

  /** Leaves the joint configuration: the incoming half becomes the whole configuration. */
  leaveJoint(): ConfigAndProgress {
    const m = this.#copy();
    if (m.outgoing.size === 0) throw invalid("cannot leave a joint configuration: not joint");
    for (const id of m.learnersNext) {
      m.learners.add(id);
      const pr = m.progress.get(id);
      if (pr !== undefined) pr.isLearner = true;
    }
    m.learnersNext.clear();
    for (const id of m.outgoing) {
      if (!m.incoming.has(id) && !m.learners.has(id)) m.progress.delete(id);
    }
    m.outgoing = new Set();
    m.autoLeave = false;
    return this.#finish(m);
  }

  /** Applies changes that alter at most one voter, without a joint configuration. */
  simple(changes: readonly ConfChangeSingle[]): ConfigAndProgress {
    const m = this.#copy();
    if (m.outgoing.size > 0)
      throw invalid("cannot apply a simple change: in a joint configuration");
    this.#applyAll(m, changes);
    let diff = 0;
    const before = this.#base.config.voters[0];
    for (const id of m.incoming) if (!before.has(id)) diff++;
    for (const id of before) if (!m.incoming.has(id)) diff++;
    if (diff > 1) {
      throw invalid("cannot change more than one voter without entering a joint configuration");
    }
    return this.#finish(m);
  }

  #applyAll(m: Mutable, changes: readonly ConfChangeSingle[]): void {
    for (const cc of changes) {
      if (cc.nodeId === 0n) continue; // etcd ignores the zero id
      switch (cc.type) {
        case "addNode":
          this.#makeVoter(m, cc.nodeId);
          break;
        case "addLearner":
          this.#makeLearner(m, cc.nodeId);
          break;
        case "removeNode":
          remove(m, cc.nodeId);
          break;
      }
    }
    if (m.incoming.size === 0) throw invalid("cannot remove every voter");
  }

  #makeVoter(m: Mutable, id: NodeId): void {
    const pr = m.progress.get(id);
    if (pr === undefined) {
      m.progress.set(id, this.#newProgress(false));
    } else {
      pr.isLearner = false;
    }
    m.learners.delete(id);
    m.learnersNext.delete(id);
    m.incoming.add(id);
  }

  #makeLearner(m: Mutable, id: NodeId): void {
    const pr = m.progress.get(id);
    if (pr === undefined) {
      m.progress.set(id, this.#newProgress(true));
      m.learners.add(id);
      return;
    }
    if (pr.isLearner) return;
    // Remove it as a voter first, keeping its progress.
    m.incoming.delete(id);
    m.learners.delete(id);
    m.learnersNext.delete(id);
    if (m.outgoing.has(id)) {
      // Still a voter in the outgoing half: it becomes a learner when the joint config is left.
      m.learnersNext.add(id);
    } else {
      pr.isLearner = true;
      m.learners.add(id);
    }
  }

  #copy(): Mutable {
    const c = this.#base.config;
    const progress = new Map<NodeId, Progress>();
    for (const [id, pr] of this.#base.progress) progress.set(id, pr.clone());
    return {
      incoming: new Set(c.voters[0]),
      outgoing: new Set(c.voters[1]),
      learners: new Set(c.learners),
      learnersNext: new Set(c.learnersNext),
      autoLeave: c.autoLeave,
      progress,
    };
  }

  #finish(m: Mutable): ConfigAndProgress {
    const config: TrackerConfig = {
      voters: [m.incoming, m.outgoing],
      autoLeave: m.autoLeave,
      learners: m.learners,
      learnersNext: m.learnersNext,
    };
    checkInvariants(config, m.progress);
    return { config, progress: m.progress };
  }
}

function remove(m: Mutable, id: NodeId): void {
  if (!m.progress.has(id)) return;
  m.incoming.delete(id);
  m.learners.delete(id);
  m.learnersNext.delete(id);
  // Members of the outgoing half keep their progress until the joint config is left.
  if (!m.outgoing.has(id)) m.progress.delete(id);
}

/** Throws INVALID_CONFIG unless `config` and `progress` are consistent (etcd's checkInvariants). */
export function checkInvariants(
  config: TrackerConfig,
  progress: ReadonlyMap<NodeId, Progress>,
): void {
  const all = [
    ...config.voters[0],
    ...config.voters[1],
    ...config.learners,
    ...config.learnersNext,
  ];
  for (const id of all) {
    if (!progress.has(id)) throw invalid(`member ${id} has no progress`);
  }
  for (const id of config.learnersNext) {
    if (!config.voters[1].has(id)) throw invalid(`learner-to-be ${id} is not an outgoing voter`);
    if (progress.get(id)?.isLearner === true)
      throw invalid(`learner-to-be ${id} is marked learner`);
  }
  for (const id of config.learners) {
    if (config.voters[0].has(id) || config.voters[1].has(id)) {
      throw invalid(`learner ${id} is also a voter`);
    }
    if (progress.get(id)?.isLearner !== true) throw invalid(`learner ${id} is not marked learner`);
  }
  if (!isJoint(config) && (config.learnersNext.size > 0 || config.autoLeave)) {
    throw invalid("a configuration that is not joint has learners-to-be or auto-leave");
  }
}

/** Rebuilds a configuration and fresh progress from a persisted ConfState (e.g. a snapshot). */
export function restoreConfig(cs: ConfState, newProgress: ProgressFactory): ConfigAndProgress {
  const progress = new Map<NodeId, Progress>();
  const config: TrackerConfig = {
    voters: [new Set(cs.voters), new Set(cs.votersOutgoing)],
    autoLeave: cs.autoLeave,
    learners: new Set(cs.learners),
    learnersNext: new Set(cs.learnersNext),
  };
  for (const id of [...cs.voters, ...cs.votersOutgoing, ...cs.learnersNext]) {
    if (!progress.has(id)) progress.set(id, newProgress(false));
  }
  for (const id of cs.learners) progress.set(id, newProgress(true));
  checkInvariants(config, progress);
  return { config, progress };
}

/** Returns the index of the entry at which a member added now starts being replicated. */
export function initialNext(lastIndex: Index): Index {
  return Math.max(lastIndex, 1);
}
