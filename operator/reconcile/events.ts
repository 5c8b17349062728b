/**
 * Events (pure): what a reconcile pass tells `kubectl describe juraftcluster`: one Normal event
 * per membership action taken, and one per condition that changed status (Warning when the
 * cluster became degraded or unavailable).
 */
import type { Condition } from "../api/types.js";
import { describeStep, progressReason } from "./conditions.js";
import type { Step } from "./planner.js";

/** A core/v1 Event's content. */
export interface EventSpec {
  readonly type: "Normal" | "Warning";
  readonly reason: string;
  readonly message: string;
}

/** The events of one pass: its action, then the conditions' transitions. */
export function eventsFor(
  step: Step,
  previous: readonly Condition[],
  next: readonly Condition[],
): EventSpec[] {
  const out: EventSpec[] = [];
  switch (step.kind) {
    case "wait":
    case "converged":
    case "quorumLost": // reported through the Degraded transition below
      break;
    case "scaleStatefulSet":
    case "recordClusterId":
    case "latchTarget":
    case "addLearner":
    case "promote":
    case "transferLeadership":
    case "removeMember":
    case "deletePvc":
      out.push({ type: "Normal", reason: progressReason[step.kind], message: describeStep(step) });
      break;
  }
  for (const c of next) {
    const before = previous.find((p) => p.type === c.type);
    if (before === undefined || before.status === c.status) continue;
    const bad =
      (c.type === "Degraded" && c.status === "True") ||
      (c.type === "Available" && c.status !== "True");
    out.push({
      type: bad ? "Warning" : "Normal",
      reason: c.reason,
      message: `${c.type} is ${c.status}${c.message !== "" ? `: ${c.message}` : ""}`,
    });
  }
  return out;
}
