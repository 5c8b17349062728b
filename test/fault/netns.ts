/**
 * Nodes in network namespaces on a bridge: slot i is namespace `<prefix>n<i>` with address
 * 10.A.B.(10+i) on port 7070, the host is 10.A.B.1 on the bridge `<prefix>br`. Partitions are
 * blackhole routes (packets to the peer are discarded, new connections fail): iptables is not
 * needed. Degradation is `tc netem` on each node's interface, or where the kernel lacks netem
 * loss, delay and reordering built from htb classes and u32 filters (shaper.ts).
 */
import type { Degradation, Healing, Net } from "./net-types.js";
import { run, tryRun } from "./exec.js";
import { describeShape, parseShapedCounts, shapeCommands, shapeFor } from "./shaper.js";

const PORT = 7070;

/** The network-namespace implementation of Net. */
export class NetnsNet implements Net {
  readonly mode = "netns" as const;
  readonly #slots: number;
  readonly #prefix: string;
  readonly #subnet: string;
  #cuts: [number, number][] = [];
  #degraded = false;
  #closed = false;

  private constructor(slots: number, prefix: string, subnet: string) {
    this.#slots = slots;
    this.#prefix = prefix;
    this.#subnet = subnet;
  }

  /** Creates the bridge, namespaces and veth pairs; undoes what it made if a step fails. */
  static async create(slots: number, prefix: string): Promise<NetnsNet> {
    // 10.A.B.0/24 from the pid: distinct concurrent runs do not share a subnet.
    const a = 100 + (process.pid % 100);
    const b = (process.pid >> 7) & 255;
    const net = new NetnsNet(slots, prefix, `10.${a}.${b}`);
    try {
      await net.#setup();
    } catch (err) {
      await net.close();
      throw err;
    }
    return net;
  }

  get #bridge(): string {
    return `${this.#prefix}br`;
  }

  #ns(i: number): string {
    return `${this.#prefix}n${i}`;
  }

  #ip(i: number): string {
    return `${this.#subnet}.${10 + i}`;
  }

  async #setup(): Promise<void> {
    const br = this.#bridge;
    await run("ip", ["link", "add", br, "type", "bridge"]);
    await run("ip", ["addr", "add", `${this.#subnet}.1/24`, "dev", br]);
    await run("ip", ["link", "set", br, "up"]);
    for (let i = 0; i < this.#slots; i++) {
      const ns = this.#ns(i);
      const host = `${this.#prefix}v${i}`;
      const peer = `${this.#prefix}p${i}`;
      await run("ip", ["netns", "add", ns]);
      await run("ip", ["-n", ns, "link", "set", "lo", "up"]);
      await run("ip", ["link", "add", host, "type", "veth", "peer", "name", peer]);
      await run("ip", ["link", "set", peer, "netns", ns]);
      await run("ip", ["-n", ns, "link", "set", peer, "name", "eth0"]);
      await run("ip", ["-n", ns, "addr", "add", `${this.#ip(i)}/24`, "dev", "eth0"]);
      await run("ip", ["-n", ns, "link", "set", "eth0", "up"]);
      await run("ip", ["link", "set", host, "master", br]);
      await run("ip", ["link", "set", host, "up"]);
    }
  }

  listen(i: number): string {
    return `${this.#ip(i)}:${PORT}`;
  }

  advertise(i: number): string {
    return this.listen(i);
  }

  client(i: number): string {
    return this.listen(i);
  }

  wrap(i: number): readonly string[] {
    return ["ip", "netns", "exec", this.#ns(i)];
  }

  setPid(): void {
    // Namespaces identify nodes by address, not by process.
  }

  async cut(a: readonly number[], b: readonly number[]): Promise<void> {
    for (const x of a) {
      for (const y of b) {
        if (x === y || this.#cuts.some(([p, q]) => p === x && q === y)) continue;
        await run("ip", ["-n", this.#ns(x), "route", "add", "blackhole", `${this.#ip(y)}/32`]);
        await run("ip", ["-n", this.#ns(y), "route", "add", "blackhole", `${this.#ip(x)}/32`]);
        this.#cuts.push([x, y], [y, x]);
      }
    }
  }

  /**
   * Degrades every link between nodes: netem on each node's interface when the kernel has it
   * (unless `netem: false`), else the htb+u32 substitute of shaper.ts on the bridge's port to
   * each node. Returns what was applied.
   */
  async degrade(d: Degradation, o: { netem?: boolean } = {}): Promise<string> {
    this.#degraded = true;
    if (o.netem !== false && (await this.#netem(d)))
      return `netem delay ${d.delayMs}ms ${d.jitterMs}ms loss ${d.lossPct}% reorder ${d.reorderPct}%`;
    const shape = shapeFor(d);
    for (let i = 0; i < this.#slots; i++) {
      await tryRun("ip", [
        "netns",
        "exec",
        this.#ns(i),
        "tc",
        "qdisc",
        "del",
        "dev",
        "eth0",
        "root",
      ]);
      // One segment per packet, so that the ID (and the choice) is per segment.
      await run("ip", ["-n", this.#ns(i), "link", "set", "dev", "eth0", "gso_max_segs", "1"]);
      const port = `${this.#prefix}v${i}`;
      await tryRun("tc", ["qdisc", "del", "dev", port, "root"]);
      for (const args of shapeCommands(port, shape, `${this.#subnet}.1`)) await run("tc", args);
    }
    return describeShape(shape);
  }

  /** Applies netem on every node's interface; false (nothing applied) if the kernel lacks it. */
  async #netem(d: Degradation): Promise<boolean> {
    for (let i = 0; i < this.#slots; i++) {
      const ns = this.#ns(i);
      await tryRun("ip", ["netns", "exec", ns, "tc", "qdisc", "del", "dev", "eth0", "root"]);
      const ok = await tryRun("ip", [
        ...["netns", "exec", ns, "tc", "qdisc", "add", "dev", "eth0", "root", "netem"],
        ...["delay", `${d.delayMs}ms`, `${d.jitterMs}ms`, "loss", `${d.lossPct}%`],
        ...["reorder", `${d.reorderPct}%`],
      ]);
      if (!ok) return false;
    }
    return true;
  }

  /** `tc -s qdisc show` of the bridge's port to slot i (where the substitute shapes). */
  shapedStats(i: number): Promise<string> {
    return run("tc", ["-s", "qdisc", "show", "dev", `${this.#prefix}v${i}`]);
  }

  /** Sums the substitute's drop and hold counters over the nodes (see Net.shapedCounts). */
  async shapedCounts(): Promise<{ dropped: number; held: number } | undefined> {
    let sum: { dropped: number; held: number } | undefined;
    for (let i = 0; i < this.#slots; i++) {
      const c = parseShapedCounts(await this.shapedStats(i));
      if (c !== undefined)
        sum = { dropped: (sum?.dropped ?? 0) + c.dropped, held: (sum?.held ?? 0) + c.held };
    }
    return sum;
  }

  async heal(what: Healing = "all"): Promise<void> {
    if (what !== "degradation") await this.#uncut();
    if (what !== "cuts") await this.#undegrade();
  }

  async #uncut(): Promise<void> {
    for (const [x, y] of this.#cuts)
      await tryRun("ip", ["-n", this.#ns(x), "route", "del", "blackhole", `${this.#ip(y)}/32`]);
    this.#cuts = [];
  }

  async #undegrade(): Promise<void> {
    if (this.#degraded) {
      for (let i = 0; i < this.#slots; i++) {
        const ns = this.#ns(i);
        await tryRun("ip", ["netns", "exec", ns, "tc", "qdisc", "del", "dev", "eth0", "root"]);
        await tryRun("ip", ["-n", ns, "link", "set", "dev", "eth0", "gso_max_segs", "65535"]);
        await tryRun("tc", ["qdisc", "del", "dev", `${this.#prefix}v${i}`, "root"]);
      }
      this.#degraded = false;
    }
  }

  /** Deletes every namespace and interface with this run's prefix (safe to call twice). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (let i = 0; i < this.#slots; i++) {
      await tryRun("ip", ["link", "del", `${this.#prefix}v${i}`]);
      await tryRun("ip", ["netns", "del", this.#ns(i)]);
    }
    await tryRun("ip", ["link", "del", this.#bridge]);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
