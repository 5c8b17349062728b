import { unavailable } from "../cluster/errors.js";
import type { ApiContext } from "./context.js";

/** Throws Unavailable/NOT_LEADER naming the leader to ask, unless this node leads. */
export function requireLeader(ctx: ApiContext, action: string): void {
  const st = ctx.runtime.status();
  if (st.role !== "leader") {
    const leader = ctx.runtime.members.get(st.lead);
    throw unavailable(
      "NOT_LEADER",
      `${action} at node ${ctx.self.id}: not the leader; ask ${leader === undefined ? "GetRaftLeader" : `the leader ${st.lead} at ${leader.address}`}`,
    );
  }
}
