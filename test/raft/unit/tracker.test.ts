/** Unit tests of node/raft/tracker: progress states, the inflights window, the tracker. */
import { InvariantError } from "../../../node/raft/index.js";
import {
  Inflights,
  Progress,
  ProgressTracker,
  confStateOf,
  describeConfig,
  isJoint,
  type TrackerConfig,
} from "../../../node/raft/tracker/index.js";

function pr(
  match: number,
  next: number,
  opts: { learner?: boolean; max?: number; bytes?: number } = {},
): Progress {
  return new Progress({
    match,
    next,
    isLearner: opts.learner ?? false,
    maxInflight: opts.max ?? 256,
    maxInflightBytes: opts.bytes ?? 0,
  });
}

describe("Inflights", () => {
  test("is full by count", () => {
    const w = new Inflights(3, 0);
    w.add(1, 10);
    w.add(2, 10);
    expect(w.full()).toBe(false);
    w.add(3, 10);
    expect(w.full()).toBe(true);
    expect(() => {
      w.add(4, 10);
    }).toThrow(InvariantError);
    expect(w.count()).toBe(3);
    expect(w.bytes()).toBe(30);
  });

  test("is full by bytes once the total reaches maxBytes", () => {
    const w = new Inflights(100, 25);
    w.add(1, 10);
    w.add(2, 10);
    expect(w.full()).toBe(false);
    w.add(3, 5);
    expect(w.full()).toBe(true);
    w.freeLE(1);
    expect(w.full()).toBe(false);
    expect(w.bytes()).toBe(15);
  });

  test("freeLE frees every message up to an index, and only those", () => {
    const w = new Inflights(10, 0);
    for (const i of [2, 4, 6, 8]) w.add(i, 1);
    w.freeLE(5);
    expect(w.count()).toBe(2);
    w.freeLE(5);
    expect(w.count()).toBe(2);
    w.freeLE(100);
    expect(w.count()).toBe(0);
    expect(w.bytes()).toBe(0);
    // After emptying, indexes may start anywhere again.
    w.add(1, 1);
    expect(w.count()).toBe(1);
  });

  test("indexes must increase", () => {
    const w = new Inflights(10, 0);
    w.add(5, 1);
    expect(() => {
      w.add(5, 1);
    }).toThrow(InvariantError);
  });

  test("a long-lived window keeps working after many frees (compaction)", () => {
    const w = new Inflights(200, 0);
    for (let i = 1; i <= 150; i++) w.add(i, 1);
    w.freeLE(100);
    expect(w.count()).toBe(50);
    for (let i = 151; i <= 300; i++) w.add(i, 1);
    expect(w.count()).toBe(200);
    expect(w.full()).toBe(true);
    w.freeLE(299);
    expect(w.count()).toBe(1);
    expect(w.bytes()).toBe(1);
  });

  test("freeFirstOne frees the oldest message; clone is independent", () => {
    const w = new Inflights(2, 0);
    w.freeFirstOne();
    expect(w.count()).toBe(0);
    w.add(3, 7);
    w.add(5, 9);
    const copy = w.clone();
    w.freeFirstOne();
    expect(w.count()).toBe(1);
    expect(w.bytes()).toBe(9);
    expect(copy.count()).toBe(2);
    expect(copy.bytes()).toBe(16);
    expect(copy.full()).toBe(true);
    w.reset();
    expect(w.count()).toBe(0);
  });
});

describe("Progress", () => {
  test("probe: one append in flight pauses until an answer", () => {
    const p = pr(0, 5);
    expect(p.state).toBe("probe");
    expect(p.isPaused()).toBe(false);
    p.sentEntries(0, 4, 0); // an empty probe does not pause
    expect(p.isPaused()).toBe(false);
    p.sentEntries(2, 6, 50);
    expect(p.isPaused()).toBe(true);
    expect(p.next).toBe(5); // probe does not advance next optimistically
    expect(p.maybeUpdate(6)).toBe(true);
    expect(p).toMatchObject({ match: 6, next: 7 });
    expect(p.isPaused()).toBe(false);
  });

  test("replicate: next advances optimistically, pausing when the window is full", () => {
    const p = pr(4, 5, { max: 2 });
    p.becomeReplicate();
    expect(p).toMatchObject({ state: "replicate", next: 5 });
    p.sentEntries(2, 6, 10);
    expect(p.next).toBe(7);
    expect(p.isPaused()).toBe(false);
    p.sentEntries(1, 7, 10);
    expect(p.isPaused()).toBe(true);
    expect(p.inflights.count()).toBe(2);
  });

  test("snapshot: always paused; becomeProbe resumes after the snapshot index", () => {
    const p = pr(3, 4);
    p.becomeSnapshot(20);
    expect(p).toMatchObject({ state: "snapshot", pendingSnapshot: 20 });
    expect(p.isPaused()).toBe(true);
    p.becomeProbe();
    expect(p).toMatchObject({ state: "probe", next: 21, pendingSnapshot: 0 });
    // A failed snapshot (pendingSnapshot cleared) resumes from match.
    p.becomeSnapshot(20);
    p.pendingSnapshot = 0;
    p.becomeProbe();
    expect(p.next).toBe(4);
  });

  test("maybeUpdate ignores stale acknowledgments", () => {
    const p = pr(5, 6);
    expect(p.maybeUpdate(3)).toBe(false);
    expect(p).toMatchObject({ match: 5, next: 6 });
  });

  test("maybeDecrTo in replicate: only rejections above match count", () => {
    const p = pr(5, 10);
    p.becomeReplicate();
    p.next = 10;
    expect(p.maybeDecrTo(5, 2)).toBe(false);
    expect(p.next).toBe(10);
    expect(p.maybeDecrTo(8, 2)).toBe(true);
    expect(p.next).toBe(6);
  });

  test("maybeDecrTo in probe: only the latest probe counts; next uses the hint", () => {
    const p = pr(2, 10);
    expect(p.maybeDecrTo(5, 3)).toBe(false);
    p.msgAppFlowPaused = true;
    expect(p.maybeDecrTo(9, 4)).toBe(true);
    expect(p.next).toBe(5);
    expect(p.msgAppFlowPaused).toBe(false);
    // The hint never takes next below match + 1.
    expect(p.maybeDecrTo(4, 0)).toBe(true);
    expect(p.next).toBe(3);
  });

  test("clone is independent of the original", () => {
    const p = pr(1, 2, { max: 4, bytes: 100 });
    p.becomeReplicate();
    p.sentEntries(1, 2, 10);
    const c = p.clone();
    p.maybeUpdate(2);
    p.inflights.freeLE(2);
    expect(c).toMatchObject({ match: 1, next: 3, state: "replicate" });
    expect(c.inflights.count()).toBe(1);
    expect(p.inflights.count()).toBe(0);
  });

  test("toString names state, match, next and flags", () => {
    const p = pr(1, 2, { learner: true });
    p.becomeSnapshot(9);
    expect(p.toString()).toBe("snapshot match=1 next=2 learner paused pendingSnap=9 inflight=0");
  });
});

describe("ProgressTracker", () => {
  function tracker(
    config: TrackerConfig,
    matches: Record<string, number>,
    learners: bigint[] = [],
  ): ProgressTracker {
    const m = new Map<bigint, Progress>();
    for (const [id, match] of Object.entries(matches)) {
      m.set(BigInt(id), pr(match, match + 1, { learner: learners.includes(BigInt(id)) }));
    }
    return new ProgressTracker(config, m);
  }
  const cfg = (
    inc: bigint[],
    out: bigint[] = [],
    learners: bigint[] = [],
    next: bigint[] = [],
    autoLeave = false,
  ): TrackerConfig => ({
    voters: [new Set(inc), new Set(out)],
    learners: new Set(learners),
    learnersNext: new Set(next),
    autoLeave,
  });

  test("committed ignores learners and needs both halves when joint", () => {
    const t = tracker(cfg([1n, 2n, 3n], [], [4n]), { 1: 5, 2: 4, 3: 1, 4: 9 }, [4n]);
    expect(t.committed()).toBe(4);
    const j = tracker(cfg([1n, 2n, 3n], [1n, 4n, 5n]), { 1: 5, 2: 4, 3: 4, 4: 1, 5: 0 });
    expect(j.committed()).toBe(1);
  });

  test("quorumActive counts the leader itself and recently active voters only", () => {
    const t = tracker(cfg([1n, 2n, 3n], [], [4n]), { 1: 0, 2: 0, 3: 0, 4: 0 }, [4n]);
    (t.progress.get(4n) as Progress).recentActive = true;
    expect(t.quorumActive(1n)).toBe(false);
    (t.progress.get(2n) as Progress).recentActive = true;
    expect(t.quorumActive(1n)).toBe(true);
  });

  test("votes: first vote counts, learners are not tallied", () => {
    const t = tracker(cfg([1n, 2n, 3n], [], [4n]), { 1: 0, 2: 0, 3: 0, 4: 0 }, [4n]);
    t.recordVote(1n, true);
    t.recordVote(4n, true);
    t.recordVote(2n, false);
    t.recordVote(2n, true);
    expect(t.tallyVotes()).toEqual({ granted: 1, rejected: 1, result: "pending" });
    t.recordVote(3n, true);
    expect(t.tallyVotes()).toEqual({ granted: 2, rejected: 1, result: "won" });
    t.resetVotes();
    expect(t.tallyVotes().result).toBe("pending");
  });

  test("membership helpers", () => {
    const t = tracker(cfg([1n], [1n, 2n], [], [2n], true), { 2: 0, 1: 0 });
    expect(t.isSingleton()).toBe(false);
    expect(t.voterIds()).toEqual([1n, 2n]);
    expect(t.isVoter(2n)).toBe(true);
    expect(t.isVoter(3n)).toBe(false);
    expect(t.memberIds()).toEqual([1n, 2n]);
    expect(isJoint(t.config)).toBe(true);
    expect(describeConfig(t.config)).toBe("voters=(1)&&(1 2) learners_next=(2) autoleave");
    expect(confStateOf(t.config)).toEqual({
      voters: [1n],
      votersOutgoing: [1n, 2n],
      learners: [],
      learnersNext: [2n],
      autoLeave: true,
    });
    const single = tracker(cfg([7n], [], [8n]), { 7: 0, 8: 0 }, [8n]);
    expect(single.isSingleton()).toBe(true);
    expect(describeConfig(single.config)).toBe("voters=(7) learners=(8)");
  });
});
