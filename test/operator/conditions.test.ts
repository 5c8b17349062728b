import type { Condition } from "../../operator/api/types.js";
import { computeConditions, type ConditionInput } from "../../operator/reconcile/conditions.js";

const base: ConditionInput = {
  step: { kind: "converged", replicas: 3 },
  leaderKnown: true,
  readyVoters: 3,
  voters: 3,
  specErrors: [],
  specWarnings: [],
  generation: 2,
  now: "2026-01-01T00:00:00Z",
  previous: [],
};
const brief = (cs: Condition[]): string[] => cs.map((c) => `${c.type}=${c.status}/${c.reason}`);

describe("computeConditions", () => {
  it.each<[string, Partial<ConditionInput>, string[]]>([
    [
      "converged and healthy",
      {},
      [
        "Available=True/QuorumAvailable",
        "Progressing=False/Converged",
        "Degraded=False/AsExpected",
      ],
    ],
    [
      "adding a learner",
      { step: { kind: "addLearner", name: "db-3", address: "a" } },
      [
        "Available=True/QuorumAvailable",
        "Progressing=True/AddingLearner",
        "Degraded=False/AsExpected",
      ],
    ],
    [
      "waiting for a learner",
      { step: { kind: "wait", reason: "LearnerCatchingUp", message: "m" } },
      [
        "Available=True/QuorumAvailable",
        "Progressing=True/LearnerCatchingUp",
        "Degraded=False/AsExpected",
      ],
    ],
    [
      "a voter down",
      { readyVoters: 2 },
      [
        "Available=True/QuorumAvailable",
        "Progressing=False/Converged",
        "Degraded=True/MembersUnhealthy",
      ],
    ],
    [
      "removal blocked by quorum",
      { step: { kind: "wait", reason: "WouldLoseQuorum", message: "m" }, readyVoters: 1 },
      [
        "Available=True/QuorumAvailable",
        "Progressing=True/WouldLoseQuorum",
        "Degraded=True/WouldLoseQuorum",
      ],
    ],
    [
      "quorum lost",
      { step: { kind: "quorumLost", message: "m" }, leaderKnown: false, readyVoters: 1 },
      ["Available=False/QuorumLost", "Progressing=False/QuorumLost", "Degraded=True/QuorumLost"],
    ],
    [
      "an election",
      { step: { kind: "wait", reason: "NoLeader", message: "m" }, leaderKnown: false },
      ["Available=False/NoLeader", "Progressing=True/NoLeader", "Degraded=False/AsExpected"],
    ],
    [
      "invalid spec",
      { specErrors: ["spec.replicas must be an integer >= 1, got 0"] },
      [
        "Available=True/QuorumAvailable",
        "Progressing=False/Converged",
        "Degraded=True/InvalidSpec",
      ],
    ],
    [
      "even size warning",
      { specWarnings: ["even"] },
      [
        "Available=True/QuorumAvailable",
        "Progressing=False/Converged",
        "Degraded=False/SpecWarning",
      ],
    ],
  ])("%s", (_, over, expected) => {
    expect(brief(computeConditions({ ...base, ...over }))).toEqual(expected);
  });

  it("keeps lastTransitionTime while a status holds, and stamps the generation", () => {
    const first = computeConditions(base);
    const later = computeConditions({
      ...base,
      now: "2026-01-02T00:00:00Z",
      readyVoters: 2,
      previous: first,
    });
    expect(later.find((c) => c.type === "Available")?.lastTransitionTime).toBe(
      "2026-01-01T00:00:00Z",
    );
    expect(later.find((c) => c.type === "Degraded")?.lastTransitionTime).toBe(
      "2026-01-02T00:00:00Z",
    );
    expect(later.every((c) => c.observedGeneration === 2)).toBe(true);
  });
});
