/** Unit tests of node/raft/confchange: every transition and every invalid change. */
import {
  Changer,
  checkInvariants,
  entersJoint,
  initialNext,
  leavesJoint,
  restoreConfig,
  type ConfigAndProgress,
} from "../../../node/raft/confchange/index.js";
import { Progress, confStateOf, type TrackerConfig } from "../../../node/raft/tracker/index.js";
import {
  RaftErrorCode,
  emptyConfState,
  isRaftError,
  type ConfChange,
  type ConfChangeSingle,
  type ConfState,
} from "../../../node/raft/index.js";

const newProgress = (learner: boolean): Progress =>
  new Progress({ match: 0, next: 10, isLearner: learner, maxInflight: 8, maxInflightBytes: 0 });

function start(cs: Partial<ConfState>): ConfigAndProgress {
  return restoreConfig({ ...emptyConfState, ...cs }, newProgress);
}

function cc(
  transition: ConfChange["transition"],
  ...changes: [ConfChangeSingle["type"], bigint][]
): ConfChange {
  return {
    transition,
    changes: changes.map(([type, nodeId]) => ({ type, nodeId })),
    context: new Uint8Array(0),
  };
}

function apply(base: ConfigAndProgress, change: ConfChange): ConfState {
  const next = new Changer(base, newProgress).apply(change);
  checkInvariants(next.config, next.progress);
  return confStateOf(next.config);
}

function invalid(base: ConfigAndProgress, change: ConfChange): string {
  try {
    new Changer(base, newProgress).apply(change);
  } catch (err) {
    if (isRaftError(err, RaftErrorCode.InvalidConfig)) return err.message;
    throw err;
  }
  return "accepted";
}

describe("confchange: simple changes (thesis §4.1)", () => {
  test("add a voter, add a learner, remove, promote, demote", () => {
    const base = start({ voters: [1n] });
    expect(apply(base, cc("auto", ["addNode", 2n]))).toMatchObject({
      voters: [1n, 2n],
      learners: [],
    });
    expect(apply(base, cc("auto", ["addLearner", 2n]))).toMatchObject({
      voters: [1n],
      learners: [2n],
    });
    const two = start({ voters: [1n, 2n], learners: [3n] });
    expect(apply(two, cc("auto", ["removeNode", 2n]))).toMatchObject({
      voters: [1n],
      learners: [3n],
    });
    expect(apply(two, cc("auto", ["removeNode", 3n]))).toMatchObject({
      voters: [1n, 2n],
      learners: [],
    });
    expect(apply(two, cc("auto", ["addNode", 3n]))).toMatchObject({
      voters: [1n, 2n, 3n],
      learners: [],
    });
    expect(apply(two, cc("auto", ["addLearner", 2n]))).toMatchObject({
      voters: [1n],
      learners: [2n, 3n],
    });
  });

  test("repeating a change or removing a stranger changes nothing", () => {
    const base = start({ voters: [1n, 2n], learners: [3n] });
    expect(apply(base, cc("auto", ["addNode", 2n]))).toEqual(confStateOf(base.config));
    expect(apply(base, cc("auto", ["addLearner", 3n]))).toEqual(confStateOf(base.config));
    expect(apply(base, cc("auto", ["removeNode", 9n]))).toEqual(confStateOf(base.config));
    // The zero id is ignored.
    expect(apply(base, cc("auto", ["addNode", 0n]))).toEqual(confStateOf(base.config));
  });

  test("the input configuration is never mutated", () => {
    const base = start({ voters: [1n, 2n] });
    const before = confStateOf(base.config);
    const p2 = base.progress.get(2n);
    const next = new Changer(base, newProgress).apply(cc("auto", ["addLearner", 2n]));
    expect(confStateOf(base.config)).toEqual(before);
    expect(p2?.isLearner).toBe(false);
    expect(next.progress.get(2n)?.isLearner).toBe(true);
    expect(next.progress.get(2n)).not.toBe(p2);
  });

  test("a new member's progress comes from the factory", () => {
    const base = start({ voters: [1n] });
    const next = new Changer(base, newProgress).apply(cc("auto", ["addNode", 5n]));
    expect(next.progress.get(5n)).toMatchObject({ match: 0, next: 10, isLearner: false });
    expect(initialNext(0)).toBe(1);
    expect(initialNext(7)).toBe(7);
  });

  test("invalid: more than one voter change without joint consensus", () => {
    const base = start({ voters: [1n, 2n] });
    const changer = new Changer(base, newProgress);
    const err = (() => {
      try {
        changer.simple([
          { type: "addNode", nodeId: 3n },
          { type: "removeNode", nodeId: 2n },
        ]);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(isRaftError(err, RaftErrorCode.InvalidConfig)).toBe(true);
    // Learner changes do not count as voter changes.
    expect(() =>
      changer.simple([
        { type: "addLearner", nodeId: 3n },
        { type: "addLearner", nodeId: 4n },
        { type: "addNode", nodeId: 5n },
      ]),
    ).not.toThrow();
  });

  test("invalid: removing every voter", () => {
    expect(invalid(start({ voters: [1n] }), cc("auto", ["removeNode", 1n]))).toMatch(/every voter/);
    expect(
      invalid(start({ voters: [1n], learners: [2n] }), cc("auto", ["addLearner", 1n])),
    ).toMatch(/every voter/);
  });

  test("invalid: a simple change in a joint configuration", () => {
    const j = start({ voters: [1n, 2n], votersOutgoing: [1n] });
    expect(() => new Changer(j, newProgress).simple([{ type: "addNode", nodeId: 3n }])).toThrow(
      /joint/,
    );
  });
});

describe("confchange: joint consensus (thesis §4.3)", () => {
  test("entering joint: outgoing is the old voters, incoming the new ones", () => {
    const base = start({ voters: [1n, 2n, 3n] });
    expect(apply(base, cc("auto", ["addNode", 4n], ["removeNode", 3n]))).toEqual({
      voters: [1n, 2n, 4n],
      votersOutgoing: [1n, 2n, 3n],
      learners: [],
      learnersNext: [],
      autoLeave: true,
    });
    expect(apply(base, cc("explicit", ["addNode", 4n]))).toMatchObject({
      votersOutgoing: [1n, 2n, 3n],
      autoLeave: false,
    });
    expect(apply(base, cc("implicit", ["addNode", 4n]))).toMatchObject({
      votersOutgoing: [1n, 2n, 3n],
      autoLeave: true,
    });
  });

  test("entersJoint / leavesJoint classify changes", () => {
    expect(entersJoint(cc("auto", ["addNode", 1n]))).toEqual({ joint: false, autoLeave: false });
    expect(entersJoint(cc("auto", ["addNode", 1n], ["addNode", 2n]))).toEqual({
      joint: true,
      autoLeave: true,
    });
    expect(entersJoint(cc("explicit", ["addNode", 1n]))).toEqual({ joint: true, autoLeave: false });
    expect(entersJoint(cc("implicit"))).toEqual({ joint: true, autoLeave: true });
    expect(leavesJoint(cc("auto"))).toBe(true);
    expect(leavesJoint(cc("auto", ["addNode", 1n]))).toBe(false);
  });

  test("demoting a voter while joint goes through learnersNext", () => {
    const base = start({ voters: [1n, 2n, 3n] });
    const j = new Changer(base, newProgress).apply(cc("explicit", ["addLearner", 3n]));
    expect(confStateOf(j.config)).toMatchObject({
      voters: [1n, 2n],
      votersOutgoing: [1n, 2n, 3n],
      learnersNext: [3n],
      learners: [],
    });
    expect(j.progress.get(3n)?.isLearner).toBe(false);
    const left = new Changer(j, newProgress).apply(cc("auto"));
    expect(confStateOf(left.config)).toEqual({
      voters: [1n, 2n],
      votersOutgoing: [],
      learners: [3n],
      learnersNext: [],
      autoLeave: false,
    });
    expect(left.progress.get(3n)?.isLearner).toBe(true);
  });

  test("leaving joint drops the progress of removed voters only", () => {
    const base = start({ voters: [1n, 2n, 3n] });
    const j = new Changer(base, newProgress).apply(
      cc("explicit", ["removeNode", 3n], ["addLearner", 4n]),
    );
    // Removed but still an outgoing voter: keeps its progress until the joint config is left.
    expect(j.progress.has(3n)).toBe(true);
    const left = new Changer(j, newProgress).apply(cc("auto"));
    expect(left.progress.has(3n)).toBe(false);
    expect(confStateOf(left.config)).toMatchObject({ voters: [1n, 2n], learners: [4n] });
  });

  test("a later step of the same joint change can undo a demotion (learnersNext)", () => {
    const base = start({ voters: [1n, 2n, 3n] });
    const j = new Changer(base, newProgress).apply(
      cc("explicit", ["addLearner", 3n], ["addNode", 3n]),
    );
    expect(confStateOf(j.config)).toMatchObject({
      voters: [1n, 2n, 3n],
      learnersNext: [],
      learners: [],
    });
    expect(j.progress.get(3n)?.isLearner).toBe(false);
  });

  test("invalid: entering joint twice, leaving when not joint, joint from nothing", () => {
    const j = start({ voters: [1n, 2n], votersOutgoing: [1n] });
    expect(invalid(j, cc("explicit", ["addNode", 3n]))).toMatch(/already joint/);
    expect(invalid(start({ voters: [1n] }), cc("auto"))).toMatch(/not joint/);
    expect(invalid(start({}), cc("explicit", ["addNode", 1n]))).toMatch(/no voters/);
    expect(invalid(start({ voters: [1n] }), cc("explicit", ["removeNode", 1n]))).toMatch(
      /every voter/,
    );
  });
});

describe("confchange: invariants and restore", () => {
  const p = (learner: boolean): Progress => newProgress(learner);
  const config = (over: Partial<TrackerConfig>): TrackerConfig => ({
    voters: [new Set([1n]), new Set()],
    learners: new Set(),
    learnersNext: new Set(),
    autoLeave: false,
    ...over,
  });

  test.each<[string, TrackerConfig, Map<bigint, Progress>, RegExp]>([
    ["member without progress", config({}), new Map(), /has no progress/],
    [
      "learner-to-be not outgoing",
      config({ voters: [new Set([1n]), new Set([1n])], learnersNext: new Set([2n]) }),
      new Map([
        [1n, p(false)],
        [2n, p(false)],
      ]),
      /not an outgoing voter/,
    ],
    [
      "learner-to-be marked learner",
      config({ voters: [new Set([1n]), new Set([1n, 2n])], learnersNext: new Set([2n]) }),
      new Map([
        [1n, p(false)],
        [2n, p(true)],
      ]),
      /is marked learner/,
    ],
    [
      "learner also voter",
      config({ learners: new Set([1n]) }),
      new Map([[1n, p(true)]]),
      /also a voter/,
    ],
    [
      "learner not marked",
      config({ learners: new Set([2n]) }),
      new Map([
        [1n, p(false)],
        [2n, p(false)],
      ]),
      /not marked learner/,
    ],
    [
      "auto-leave without joint",
      config({ autoLeave: true }),
      new Map([[1n, p(false)]]),
      /not joint/,
    ],
  ])("checkInvariants rejects: %s", (_name, cfg, progress, msg) => {
    let err: unknown;
    try {
      checkInvariants(cfg, progress);
    } catch (e) {
      err = e;
    }
    expect(isRaftError(err, RaftErrorCode.InvalidConfig)).toBe(true);
    expect((err as Error).message).toMatch(msg);
  });

  test("restoreConfig rebuilds a joint configuration with learners-to-be", () => {
    const cs: ConfState = {
      voters: [1n, 2n],
      votersOutgoing: [1n, 3n],
      learners: [4n],
      learnersNext: [3n],
      autoLeave: true,
    };
    const r = restoreConfig(cs, newProgress);
    expect(confStateOf(r.config)).toEqual(cs);
    expect([...r.progress.keys()].sort()).toEqual([1n, 2n, 3n, 4n]);
    expect(r.progress.get(3n)?.isLearner).toBe(false);
    expect(r.progress.get(4n)?.isLearner).toBe(true);
    expect(() =>
      restoreConfig({ ...emptyConfState, voters: [1n], learners: [1n] }, newProgress),
    ).toThrow(/also a voter/);
  });
});
