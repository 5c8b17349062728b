/**
 * A cluster of real `juraft serve` processes on a Net (each in its own namespace, or behind the
 * proxies). Slots are fixed places in the network; a slot runs one member at a time, restartable
 * (same name and data), wiped and rejoined as a new member (new name, new id), killed with
 * SIGKILL, paused with SIGSTOP. A node that exits by itself (a full disk) is recorded and
 * restarted by `heal`. Every child is killed and every mount undone by `close`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { JuraftClient } from "../../node/client/index.js";
import type { StatusResponse } from "../../proto/gen/juraft/cluster/v1/cluster_pb.js";
import { MemberRole } from "../../proto/gen/juraft/cluster/v1/cluster_pb.js";
import type { Net } from "./net-types.js";
import { run, tryRun } from "./exec.js";

const JURAFT = fileURLToPath(new URL("../../node/cli/juraft.mjs", import.meta.url));

/** Sleeps `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Options shared by every node of a cluster. */
export interface ClusterOptions {
  readonly dir: string;
  readonly tickMs: number;
  readonly snapshotEvery: number;
  readonly snapshotTrailing: number;
  /** Size of each node's tmpfs data directory in MiB (0: a plain directory). */
  readonly tmpfsMiB: number;
  /** Called with every line a node logs at warn level or on stderr (for the report). */
  readonly log?: (slot: number, line: string) => void;
}

/** One slot of the cluster. */
export class FaultNode {
  readonly slot: number;
  name: string;
  generation = 0;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  id = "";
  paused = false;
  /** Unexpected exits (not killed by us), with their status. */
  readonly crashes: string[] = [];
  readonly stderr: string[] = [];
  #expectExit = false;

  constructor(slot: number) {
    this.slot = slot;
    this.name = `n${slot}`;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Spawns the process and waits for its serving line (bounded). */
  async start(c: FaultCluster, extra: readonly string[], timeoutMs = 30_000): Promise<void> {
    if (this.#child !== undefined) throw new Error(`start ${this.name}: already running`);
    const argv = [
      ...c.net.wrap(this.slot),
      process.execPath,
      JURAFT,
      "serve",
      ...["--name", this.name, "--data-dir", c.dataDir(this.slot)],
      ...["--listen", c.net.listen(this.slot), "--advertise", c.net.advertise(this.slot)],
      ...["--tick-ms", String(c.o.tickMs), "--snapshot-every", String(c.o.snapshotEvery)],
      ...["--snapshot-trailing", String(c.o.snapshotTrailing), "--log-level", "warn"],
      ...extra,
    ];
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const [cmd, ...args] = argv as [string, ...string[]];
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env });
    this.#child = child;
    this.#expectExit = false;
    this.stderr.length = 0; // the tail of this run only
    this.paused = false;
    c.net.setPid(this.slot, child.pid);
    this.#exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        if (!this.#expectExit) this.crashes.push(`${this.name} exited (${code ?? signal ?? "?"})`);
        if (this.#child === child) this.#child = undefined;
        c.net.setPid(this.slot, undefined);
        resolve();
      });
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d: string) => {
      for (const line of d.split("\n")) {
        if (line === "") continue;
        this.stderr.push(line);
        c.o.log?.(this.slot, line);
      }
      if (this.stderr.length > 500) this.stderr.splice(0, this.stderr.length - 500);
    });
    child.stdout.setEncoding("utf8");
    await new Promise<void>((resolve, reject) => {
      let buf = "";
      const timer = setTimeout(() => {
        reject(new Error(`${this.name} did not serve in ${timeoutMs} ms: ${this.tail()}`));
      }, timeoutMs);
      child.stdout.on("data", (d: string) => {
        buf += d;
        const m = /\{"event":"serving"[^\n]*\}/.exec(buf);
        if (m === null) return;
        buf = "";
        this.id = (JSON.parse(m[0]) as { id: string }).id;
        clearTimeout(timer);
        resolve();
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(
          new Error(
            `${this.name} exited (${code ?? signal ?? "?"}) before serving: ${this.tail()}`,
          ),
        );
      });
    });
  }

  tail(n = 8): string {
    return this.stderr.slice(-n).join("\n");
  }

  /** Sends a signal; SIGKILL waits for the exit. */
  async signal(sig: "SIGKILL" | "SIGSTOP" | "SIGCONT" | "SIGTERM"): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    if (sig === "SIGKILL" || sig === "SIGTERM") {
      this.#expectExit = true;
      if (this.paused) child.kill("SIGCONT");
    }
    child.kill(sig);
    if (sig === "SIGSTOP") this.paused = true;
    if (sig === "SIGCONT") this.paused = false;
    if (sig === "SIGKILL") await this.#exited;
    if (sig === "SIGTERM") {
      const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await this.#exited;
      clearTimeout(t);
    }
  }
}

/** The cluster: slots, the network, data directories and membership. */
export class FaultCluster {
  readonly net: Net;
  readonly o: ClusterOptions;
  readonly nodes: FaultNode[];
  /** Slots that are members (the others are spares). */
  readonly mounted = new Set<number>();

  constructor(net: Net, slots: number, o: ClusterOptions) {
    this.net = net;
    this.o = o;
    this.nodes = Array.from({ length: slots }, (_, i) => new FaultNode(i));
  }

  dataDir(slot: number): string {
    return join(this.o.dir, `n${slot}`);
  }

  /** Creates (and with tmpfsMiB, mounts) slot's empty data directory. */
  async freshDir(slot: number): Promise<void> {
    const dir = this.dataDir(slot);
    if (this.mounted.has(slot)) {
      await tryRun("umount", [dir]);
      this.mounted.delete(slot);
    }
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    if (this.o.tmpfsMiB > 0) {
      await run("mount", ["-t", "tmpfs", "-o", `size=${this.o.tmpfsMiB}m`, "tmpfs", dir]);
      this.mounted.add(slot);
    }
  }

  /** Bootstraps slot 0 and joins slots 1..n-1; resolves when n voters are in the config. */
  async boot(n: number): Promise<void> {
    const first = this.nodes[0] as FaultNode;
    await this.freshDir(0);
    await first.start(this, []);
    for (let i = 1; i < n; i++) {
      await this.freshDir(i);
      await (this.nodes[i] as FaultNode).start(this, ["--join", this.net.advertise(0)]);
    }
    await this.waitVoters(n, 60_000);
  }

  /** A client of one slot: no failover, one attempt, a short deadline. */
  client(slot: number, timeoutMs = 2000): JuraftClient {
    return new JuraftClient({ endpoints: [this.net.client(slot)], attempts: 1, timeoutMs });
  }

  /** Status of a slot's node, or undefined if it does not answer. */
  async status(slot: number, timeoutMs = 1500): Promise<StatusResponse | undefined> {
    const n = this.nodes[slot];
    if (n?.running !== true || n.paused) return undefined;
    const c = this.client(slot, timeoutMs);
    try {
      return await c.status();
    } catch {
      return undefined;
    } finally {
      c.close();
    }
  }

  /** The slot whose node says it leads at the highest term, if any answers. */
  async leader(): Promise<number | undefined> {
    const views = await Promise.all(
      this.nodes.map(async (n) => [n.slot, await this.status(n.slot)] as const),
    );
    let best: [number, bigint] | undefined;
    for (const [slot, st] of views)
      if (st?.role === "leader" && (best === undefined || st.term > best[1]))
        best = [slot, st.term];
    return best?.[0];
  }

  /** Slots whose current member is a voter, per the leader (bounded wait for one). */
  async voterSlots(timeoutMs = 20_000): Promise<number[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const l = await this.leader();
      const st = l === undefined ? undefined : await this.status(l);
      if (st !== undefined) {
        const ids = new Set(
          st.members.filter((m) => m.role === MemberRole.VOTER).map((m) => m.id.toString()),
        );
        return this.nodes.filter((n) => ids.has(n.id)).map((n) => n.slot);
      }
      if (Date.now() > deadline) throw new Error(`no leader answered within ${timeoutMs} ms`);
      await sleep(200);
    }
  }

  /** Waits until the leader's configuration has `n` voters and no learner (bounded). */
  async waitVoters(n: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const l = await this.leader();
      const st = l === undefined ? undefined : await this.status(l);
      const voters = st?.members.filter((m) => m.role === MemberRole.VOTER).length ?? 0;
      if (voters === n && st?.members.length === n && !st.joint) return;
      if (Date.now() > deadline) {
        // What each running node saw, so that a failure here can be understood afterwards.
        const seen: string[] = [];
        for (const node of this.nodes) {
          const s = await this.status(node.slot);
          seen.push(
            s === undefined
              ? `${node.name}: no status (running ${String(node.running)})`
              : `${node.name}: ${s.role} term ${s.term} leader ${s.leaderId} applied ${s.appliedIndex}/${s.commitIndex} ` +
                  `members ${s.members.map((m) => `${m.name}:${MemberRole[m.role]}`).join(",")}${s.joint ? " joint" : ""}`,
          );
        }
        throw new Error(
          `cluster did not reach ${n} voters in ${timeoutMs} ms (leader slot ${String(l)}); ${seen.join("; ")}`,
        );
      }
      await sleep(200);
    }
  }

  /** Restarts every member slot that is down and resumes every paused one. */
  async reviveAll(members: readonly number[]): Promise<void> {
    for (const s of members) {
      const n = this.nodes[s] as FaultNode;
      if (n.paused) await n.signal("SIGCONT");
      if (!n.running)
        await n.start(this, ["--join", this.net.advertise(members.find((m) => m !== s) ?? 0)]);
    }
  }

  /** Kills every child and unmounts every tmpfs (safe to call twice). */
  async close(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.signal("SIGKILL")));
    for (const s of [...this.mounted]) await tryRun("umount", ["-l", this.dataDir(s)]);
    this.mounted.clear();
  }
}
