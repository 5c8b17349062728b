import type { Condition } from "../../operator/api/types.js";
import { eventsFor } from "../../operator/reconcile/events.js";
import type { Step } from "../../operator/reconcile/planner.js";

const cond = (
  type: string,
  status: Condition["status"],
  reason: string,
  message = "",
): Condition => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: "2026-01-01T00:00:00Z",
  observedGeneration: 1,
});
const healthy = [
  cond("Available", "True", "QuorumAvailable", "a leader serves"),
  cond("Progressing", "False", "Converged", "3 members"),
  cond("Degraded", "False", "AsExpected"),
];
const wait: Step = { kind: "wait", reason: "LearnerCatchingUp", message: "db-3 is at 1 of 9" };

const table: [string, Step, Condition[], Condition[], string[]][] = [
  ["nothing happened: no event", { kind: "converged", replicas: 3 }, healthy, healthy, []],
  [
    "an action is a Normal event",
    { kind: "addLearner", name: "db-3", address: "a" },
    healthy,
    healthy,
    ["Normal AddingLearner adding db-3 as a learner"],
  ],
  [
    "removal",
    { kind: "removeMember", id: "7", name: "db-4" },
    healthy,
    healthy,
    ["Normal RemovingMember removing db-4"],
  ],
  [
    "Progressing turning True is a Normal transition",
    wait,
    healthy,
    [
      healthy[0],
      cond("Progressing", "True", "LearnerCatchingUp", wait.message),
      healthy[2],
    ].flatMap((c) => (c === undefined ? [] : [c])),
    ["Normal LearnerCatchingUp Progressing is True: db-3 is at 1 of 9"],
  ],
  [
    "quorum lost: Warnings (Available False, Degraded True)",
    { kind: "quorumLost", message: "1 of 3 voters ready" },
    healthy,
    [
      cond("Available", "False", "QuorumLost", "1 of 3 voters ready"),
      cond("Progressing", "False", "QuorumLost", "1 of 3 voters ready"),
      cond("Degraded", "True", "QuorumLost", "1 of 3 voters ready"),
    ],
    [
      "Warning QuorumLost Available is False: 1 of 3 voters ready",
      "Warning QuorumLost Degraded is True: 1 of 3 voters ready",
    ],
  ],
  [
    "the first pass (no previous conditions) reports its action only",
    { kind: "scaleStatefulSet", replicas: 1 },
    [],
    healthy,
    ["Normal ScalingStatefulSet StatefulSet to 1 replicas"],
  ],
];

describe("eventsFor", () => {
  it.each(table)("%s", (_, step, previous, next, want) => {
    expect(
      eventsFor(step, previous, next).map((e) => `${e.type} ${e.reason} ${e.message}`),
    ).toEqual(want);
  });
});
