/** PURE computation of the standard conditions: Available, Progressing, Degraded. */
import type { Condition, ConditionStatus } from "../api/types.js";
import type { Step } from "./planner.js";

/** What the conditions are computed from. */
export interface ConditionInput {
  readonly step: Step;
  /** A leader answered. */
  readonly leaderKnown: boolean;
  /** Voters whose pods are ready, and voters in all. */
  readonly readyVoters: number;
  readonly voters: number;
  /** Spec validation errors (the spec is not acted on) and warnings. */
  readonly specErrors: readonly string[];
  readonly specWarnings: readonly string[];
  readonly generation: number;
  /** RFC 3339 time of this pass (injected: no clock here). */
  readonly now: string;
  readonly previous: readonly Condition[];
}

/** The Progressing reason (and Event reason) of each step. */
export const progressReason: Readonly<Record<Step["kind"], string>> = {
  scaleStatefulSet: "ScalingStatefulSet",
  recordClusterId: "Bootstrapped",
  latchTarget: "ScaleRequested",
  addLearner: "AddingLearner",
  promote: "PromotingLearner",
  transferLeadership: "TransferringLeadership",
  removeMember: "RemovingMember",
  deletePvc: "DeletingVolume",
  wait: "Waiting",
  quorumLost: "QuorumLost",
  converged: "Converged",
};

/** A step in words (condition and Event messages). */
export function describeStep(step: Step): string {
  switch (step.kind) {
    case "scaleStatefulSet":
      return `StatefulSet to ${step.replicas} replicas`;
    case "recordClusterId":
      return `cluster ${step.clusterId} formed`;
    case "latchTarget":
      return `converging to ${step.replicas} members`;
    case "addLearner":
      return `adding ${step.name} as a learner`;
    case "promote":
      return `promoting ${step.name}`;
    case "transferLeadership":
      return `moving leadership from ${step.from} to ${step.to}`;
    case "removeMember":
      return `removing ${step.name}`;
    case "deletePvc":
      return `deleting ${step.name}`;
    case "wait":
    case "quorumLost":
      return step.message;
    case "converged":
      return `${step.replicas} members`;
  }
}

/** The three conditions, keeping lastTransitionTime when a status did not change. */
export function computeConditions(input: ConditionInput): Condition[] {
  const { step } = input;
  const make = (
    type: string,
    status: ConditionStatus,
    reason: string,
    message: string,
  ): Condition => {
    const prev = input.previous.find((c) => c.type === type);
    return {
      type,
      status,
      reason,
      message,
      lastTransitionTime:
        prev !== undefined && prev.status === status ? prev.lastTransitionTime : input.now,
      observedGeneration: input.generation,
    };
  };
  const invalid = input.specErrors.length > 0;
  const quorumLost = step.kind === "quorumLost";
  const available = input.leaderKnown && !quorumLost;
  const waitReason = step.kind === "wait" ? step.reason : undefined;
  const progressing = !invalid && !quorumLost && step.kind !== "converged";
  const degradedReason = invalid
    ? "InvalidSpec"
    : quorumLost
      ? "QuorumLost"
      : waitReason === "WouldLoseQuorum" || waitReason === "ClusterIdMismatch"
        ? waitReason
        : input.readyVoters < input.voters
          ? "MembersUnhealthy"
          : undefined;
  const degradedMessage = invalid
    ? input.specErrors.join("; ")
    : degradedReason === "MembersUnhealthy"
      ? `${input.readyVoters} of ${input.voters} voters ready`
      : describeStep(step);
  return [
    make(
      "Available",
      available ? "True" : "False",
      available ? "QuorumAvailable" : quorumLost ? "QuorumLost" : "NoLeader",
      available
        ? `a leader serves; ${input.readyVoters} of ${input.voters} voters ready`
        : describeStep(step),
    ),
    make(
      "Progressing",
      progressing ? "True" : "False",
      waitReason ?? progressReason[step.kind],
      describeStep(step),
    ),
    make(
      "Degraded",
      degradedReason !== undefined ? "True" : "False",
      degradedReason ?? (input.specWarnings.length > 0 ? "SpecWarning" : "AsExpected"),
      degradedReason !== undefined ? degradedMessage : input.specWarnings.join("; "),
    ),
  ];
}
