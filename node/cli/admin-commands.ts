import { MemberRole } from "../../proto/gen/juraft/cluster/v1/cluster_pb.js";
import type { JuraftClient } from "../client/index.js";
import { ExitCode, usage } from "./exit.js";

type Print = (line: string) => void;

function nodeId(v: string): bigint {
  if (!/^\d+$/.test(v)) throw usage(`members: ${JSON.stringify(v)} is not a node id`);
  return BigInt(v);
}

/** `juraft status`: the node's view as one JSON line. */
export async function status(client: JuraftClient, print: Print): Promise<number> {
  const s = await client.status();
  print(
    JSON.stringify({
      id: s.nodeId.toString(),
      name: s.name,
      role: s.role,
      term: Number(s.term),
      leader: s.leaderId.toString(),
      commitIndex: Number(s.commitIndex),
      appliedIndex: Number(s.appliedIndex),
      lastIndex: Number(s.lastIndex),
      snapshotIndex: Number(s.snapshotIndex),
      clusterId: s.clusterId,
      joint: s.joint,
      members: s.members.length,
    }),
  );
  return ExitCode.ok;
}

/** `juraft members list|add-learner|promote|remove|transfer-leadership`, sent to the leader. */
export async function members(
  client: JuraftClient,
  print: Print,
  action: string,
  args: string[],
): Promise<number> {
  if (action === "list") {
    const s = await client.status();
    for (const m of s.members) {
      print(
        JSON.stringify({
          id: m.id.toString(),
          name: m.name,
          address: m.address,
          role: m.role === MemberRole.LEARNER ? "learner" : "voter",
          leader: m.id === s.leaderId,
          matchIndex: Number(m.matchIndex),
          progress: m.progress,
        }),
      );
    }
    return ExitCode.ok;
  }
  const leader = client.cluster(await client.leaderAddress());
  switch (action) {
    case "add-learner": {
      const [name, address] = args;
      if (name === undefined || address === undefined)
        throw usage("members add-learner NAME ADDRESS");
      const r = await leader.addLearner({ name, address });
      print(JSON.stringify({ added: name, id: r.nodeId.toString() }));
      return ExitCode.ok;
    }
    case "promote":
    case "remove":
    case "transfer-leadership": {
      const [id] = args;
      if (id === undefined) throw usage(`members ${action} NODE_ID`);
      const n = nodeId(id);
      if (action === "promote")
        print(
          JSON.stringify({
            promoted: id,
            index: Number((await leader.promote({ nodeId: n })).index),
          }),
        );
      else if (action === "remove")
        print(
          JSON.stringify({
            removed: id,
            index: Number((await leader.removeMember({ nodeId: n })).index),
          }),
        );
      else
        print(
          JSON.stringify({
            leader: (await leader.transferLeadership({ nodeId: n })).leaderId.toString(),
          }),
        );
      return ExitCode.ok;
    }
    default:
      throw usage(
        `members: unknown action ${JSON.stringify(action)} (list, add-learner, promote, remove, transfer-leadership)`,
      );
  }
}
