/** Unit and property tests of node/raft/quorum against a naive reference written here. */
import fc from "fast-check";
import {
  jointCommittedIndex,
  jointVoteResult,
  majorityCommittedIndex,
  majorityVoteResult,
  type VoteResult,
} from "../../../node/raft/index.js";
import { jointVoterIds, sortIds } from "../../../node/raft/quorum/index.js";

type NodeId = bigint;

/** Naive: the largest index i such that more than half of the voters acked >= i. */
function naiveCommitted(voters: ReadonlySet<NodeId>, acked: ReadonlyMap<NodeId, number>): number {
  if (voters.size === 0) return Number.POSITIVE_INFINITY;
  let best = 0;
  const candidates = new Set<number>([0]);
  for (const id of voters) candidates.add(acked.get(id) ?? 0);
  for (const i of candidates) {
    let n = 0;
    for (const id of voters) if ((acked.get(id) ?? 0) >= i) n++;
    if (2 * n > voters.size && i > best) best = i;
  }
  return best;
}

/** Naive: won with a strict majority of yes; lost if a majority of yes is impossible. */
function naiveVote(voters: ReadonlySet<NodeId>, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.size === 0) return "won";
  let yes = 0;
  let no = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === true) yes++;
    else if (v === false) no++;
  }
  if (2 * yes > voters.size) return "won";
  if (2 * (voters.size - no) > voters.size) return "pending";
  return "lost";
}

function naiveJointVote(
  a: ReadonlySet<NodeId>,
  b: ReadonlySet<NodeId>,
  votes: ReadonlyMap<NodeId, boolean>,
): VoteResult {
  const ra = naiveVote(a, votes);
  const rb = naiveVote(b, votes);
  if (ra === "lost" || rb === "lost") return "lost";
  if (ra === "won" && rb === "won") return "won";
  return "pending";
}

const ids = fc.uniqueArray(fc.bigInt({ min: 1n, max: 9n }), { maxLength: 7 });
const ackMap = fc
  .array(fc.tuple(fc.bigInt({ min: 1n, max: 9n }), fc.nat({ max: 20 })), { maxLength: 9 })
  .map((pairs) => new Map(pairs));
const voteMap = fc
  .array(fc.tuple(fc.bigInt({ min: 1n, max: 9n }), fc.boolean()), { maxLength: 9 })
  .map((pairs) => new Map(pairs));

describe("quorum", () => {
  test("majorityCommittedIndex matches the naive definition", () => {
    fc.assert(
      fc.property(ids, ackMap, (vs, acked) => {
        const voters = new Set(vs);
        expect(majorityCommittedIndex(voters, (id) => acked.get(id))).toBe(
          naiveCommitted(voters, acked),
        );
      }),
      { numRuns: 500 },
    );
  });

  test("jointCommittedIndex is the minimum of both halves' naive committed index", () => {
    fc.assert(
      fc.property(ids, ids, ackMap, (a, b, acked) => {
        const ca = new Set(a);
        const cb = new Set(b);
        const want = Math.min(naiveCommitted(ca, acked), naiveCommitted(cb, acked));
        expect(jointCommittedIndex([ca, cb], (id) => acked.get(id))).toBe(want);
      }),
      { numRuns: 500 },
    );
  });

  test("majorityVoteResult matches the naive definition", () => {
    fc.assert(
      fc.property(ids, voteMap, (vs, votes) => {
        const voters = new Set(vs);
        expect(majorityVoteResult(voters, votes)).toBe(naiveVote(voters, votes));
      }),
      { numRuns: 500 },
    );
  });

  test("jointVoteResult matches the naive definition", () => {
    fc.assert(
      fc.property(ids, ids, voteMap, (a, b, votes) => {
        const ca = new Set(a);
        const cb = new Set(b);
        expect(jointVoteResult([ca, cb], votes)).toBe(naiveJointVote(ca, cb, votes));
      }),
      { numRuns: 500 },
    );
  });

  test("an empty configuration wins votes and never constrains commitment", () => {
    expect(majorityVoteResult(new Set(), new Map())).toBe("won");
    expect(majorityCommittedIndex(new Set(), () => 5)).toBe(Number.POSITIVE_INFINITY);
    expect(jointCommittedIndex([new Set([1n]), new Set()], () => 7)).toBe(7);
  });

  test("examples: 3 voters need 2, 4 voters need 3", () => {
    const acked = new Map([
      [1n, 5],
      [2n, 3],
      [3n, 1],
      [4n, 3],
    ]);
    expect(majorityCommittedIndex(new Set([1n, 2n, 3n]), (id) => acked.get(id))).toBe(3);
    expect(majorityCommittedIndex(new Set([1n, 2n, 3n, 4n]), (id) => acked.get(id))).toBe(3);
    expect(majorityCommittedIndex(new Set([1n, 3n]), (id) => acked.get(id))).toBe(1);
    expect(majorityCommittedIndex(new Set([9n]), () => undefined)).toBe(0);
    const votes = new Map([
      [1n, true],
      [2n, false],
    ]);
    expect(majorityVoteResult(new Set([1n, 2n, 3n]), votes)).toBe("pending");
    expect(majorityVoteResult(new Set([1n, 2n]), votes)).toBe("lost");
    expect(jointVoteResult([new Set([1n]), new Set([1n, 2n, 3n])], votes)).toBe("pending");
  });

  test("voter ids are deduplicated and sorted", () => {
    expect(jointVoterIds([new Set([3n, 1n]), new Set([2n, 3n])])).toEqual([1n, 2n, 3n]);
    expect(sortIds([10n, 2n, 2n])).toEqual([2n, 2n, 10n]);
  });
});
