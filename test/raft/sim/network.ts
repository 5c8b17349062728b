import type { Message, NodeId } from "../../../node/raft/index.js";
import type { Rng } from "./rng.js";

/** Knobs of the simulated network. */
export interface NetworkFaults {
  /** Probability that a message is lost. */
  dropRate: number;
  /** Probability that a message is delivered twice. */
  duplicateRate: number;
  /** Max delivery delay in rounds (delays are uniform in [0, maxDelay], so messages reorder). */
  maxDelay: number;
}

/** What the transport tells a sender about its messages (RawNode.reportSnapshot/Unreachable). */
export type TransportReport =
  | {
      readonly type: "snapshot";
      readonly from: NodeId;
      readonly to: NodeId;
      readonly failed: boolean;
    }
  | { readonly type: "unreachable"; readonly from: NodeId; readonly to: NodeId };

interface InFlight {
  readonly at: number;
  readonly seq: number;
  readonly msg: Message;
}

/**
 * A lossy, reordering, duplicating network with partitions. Deterministic for a given Rng.
 * Partitions are a group number per node: messages only flow within a group.
 */
export class SimNetwork {
  faults: NetworkFaults;
  readonly #rng: Rng;
  #queue: InFlight[] = [];
  #seq = 0;
  readonly #group = new Map<NodeId, number>();
  sent = 0;
  delivered = 0;
  /** Reports for senders, produced as messages are dropped or delivered. */
  reports: TransportReport[] = [];

  /** Creates a network with the given faults. */
  constructor(rng: Rng, faults: NetworkFaults) {
    this.#rng = rng;
    this.faults = faults;
  }

  /** Queues messages sent at round `now`. */
  send(now: number, msgs: readonly Message[]): void {
    for (const msg of msgs) {
      this.sent++;
      if (this.#rng.chance(this.faults.dropRate)) {
        if (msg.type === "snap")
          this.reports.push({ type: "snapshot", from: msg.from, to: msg.to, failed: true });
        continue;
      }
      this.#push(now, msg);
      if (this.#rng.chance(this.faults.duplicateRate)) this.#push(now, msg);
    }
  }

  #push(now: number, msg: Message): void {
    const at = now + this.#rng.int(this.faults.maxDelay + 1);
    this.#queue.push({ at, seq: this.#seq++, msg });
  }

  /** Removes and returns the messages due at round `now`, in a deterministic order. */
  due(now: number): Message[] {
    const ready: InFlight[] = [];
    const later: InFlight[] = [];
    for (const m of this.#queue) (m.at <= now ? ready : later).push(m);
    this.#queue = later;
    ready.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const out: Message[] = [];
    for (const { msg } of ready) {
      if (this.connected(msg.from, msg.to)) {
        out.push(msg);
        if (msg.type === "snap")
          this.reports.push({ type: "snapshot", from: msg.from, to: msg.to, failed: false });
      } else if (msg.type === "snap") {
        this.reports.push({ type: "snapshot", from: msg.from, to: msg.to, failed: true });
      } else {
        this.reports.push({ type: "unreachable", from: msg.from, to: msg.to });
      }
    }
    this.delivered += out.length;
    return out;
  }

  /** Returns whether `a` and `b` are in the same partition. */
  connected(a: NodeId, b: NodeId): boolean {
    return (this.#group.get(a) ?? 0) === (this.#group.get(b) ?? 0);
  }

  /** Splits the nodes: each node goes to the group given (unlisted nodes stay in group 0). */
  partition(groups: ReadonlyMap<NodeId, number>): void {
    this.#group.clear();
    for (const [id, g] of groups) this.#group.set(id, g);
  }

  /** Removes every partition. */
  heal(): void {
    this.#group.clear();
  }

  /** Returns whether any partition is in place. */
  isPartitioned(): boolean {
    for (const g of this.#group.values()) if (g !== 0) return true;
    return false;
  }

  /** Drops every message in flight to `id` (a crash loses its sockets). */
  dropFor(id: NodeId): void {
    for (const { msg } of this.#queue) {
      if (msg.to === id && msg.type === "snap")
        this.reports.push({ type: "snapshot", from: msg.from, to: id, failed: true });
    }
    this.#queue = this.#queue.filter((m) => m.msg.to !== id);
  }

  /** Returns and clears the pending transport reports. */
  takeReports(): TransportReport[] {
    const out = this.reports;
    this.reports = [];
    return out;
  }
}
