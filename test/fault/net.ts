/**
 * The network between the nodes of a fault run. Two implementations with one interface:
 * - `netns`: every node in its own network namespace with its own address on a bridge (veth
 *   pairs), so links are cut by blackhole routes in both namespaces and degraded by `tc` on the
 *   node's interface (netem when the kernel has it, else a token bucket that queues and drops);
 * - `proxy` (where namespaces are unavailable): nodes on loopback, every peer connection through a
 *   per-destination TCP proxy that identifies the connecting node and applies per-link rules.
 * Clients of the workload always reach every node (a Jepsen-style control node): only links
 * between nodes are cut.
 */
import { run, tryRun } from "./exec.js";
import type { Net } from "./net-types.js";
import { NetnsNet } from "./netns.js";
import { ProxyNet } from "./proxy.js";

export type { Degradation, Healing, Net } from "./net-types.js";

/** Whether network namespaces can be created here (root, iproute2, kernel support). */
export async function netnsAvailable(prefix: string): Promise<boolean> {
  const probe = `${prefix}probe`;
  const ok = await tryRun("ip", ["netns", "add", probe]);
  if (ok) await tryRun("ip", ["netns", "del", probe]);
  return ok;
}

/**
 * Creates the network for `slots` nodes: namespaces when available (unless `mode` forces one),
 * else loopback proxies. `prefix` names every created object so that cleanup finds them.
 */
export async function createNet(
  slots: number,
  o: { mode?: "netns" | "proxy" | "auto"; prefix: string },
): Promise<Net> {
  const mode = o.mode ?? "auto";
  if (mode === "netns" || (mode === "auto" && (await netnsAvailable(o.prefix))))
    return NetnsNet.create(slots, o.prefix);
  return ProxyNet.create(slots);
}

/**
 * Removes namespaces and interfaces left by fault runs whose process is gone (a runner killed
 * before its cleanup): names `jrf-<pid>-...` of dead pids.
 */
export async function sweepStale(): Promise<void> {
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const dead = (name: string): boolean => {
    const m = /^jrf-(\d+)-/.exec(name);
    return m !== null && !alive(Number(m[1]));
  };
  let netns: string;
  let links: string;
  try {
    netns = await run("ip", ["netns", "list"]);
    links = await run("ip", ["-o", "link", "show"]);
  } catch {
    return; // no iproute2: nothing can have been left
  }
  for (const line of netns.split("\n")) {
    const name = line.split(" ")[0] ?? "";
    if (dead(name)) await tryRun("ip", ["netns", "del", name]);
  }
  for (const line of links.split("\n")) {
    const name = (line.split(": ")[1] ?? "").split("@")[0] ?? "";
    if (dead(name)) await tryRun("ip", ["link", "del", name]);
  }
}
