import type { RaftRuntime } from "./runtime.js";

/**
 * Promotes caught-up learners to voters, one at a time, on the leader (DESIGN.md §8: a node
 * joins as a learner and is promoted once it has caught up). Learners added with manual
 * promotion are left to the operator.
 */
export function startPromoter(rt: RaftRuntime): () => void {
  let inFlight = false;
  return rt.onReady(() => {
    if (inFlight || rt.state !== "running") return;
    const st = rt.status();
    if (st.role !== "leader" || st.progress === undefined || st.config.votersOutgoing.length > 0)
      return;
    for (const id of st.config.learners) {
      const pr = st.progress.get(id);
      if (rt.members.get(id)?.manualPromotion === true) continue;
      if (pr === undefined || pr.state !== "replicate" || pr.match < st.commit) continue;
      inFlight = true;
      rt.proposeConfChange({
        transition: "auto",
        changes: [{ type: "addNode", nodeId: id }],
        context: new Uint8Array(0),
      })
        .catch(() => undefined) // refused or leadership lost: the next Ready tries again
        .finally(() => {
          inFlight = false;
        });
      return;
    }
  });
}
