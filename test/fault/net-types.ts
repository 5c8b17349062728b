/** The network interface of a fault run (see net.ts for the implementations). */

/** How a degraded link behaves. */
export interface Degradation {
  readonly delayMs: number;
  readonly jitterMs: number;
  readonly lossPct: number;
  readonly reorderPct: number;
}

/** What {@link Net.heal} restores. */
export type Healing = "cuts" | "degradation" | "all";

/** The network of a run. */
export interface Net extends AsyncDisposable {
  readonly mode: "netns" | "proxy";
  /** `--listen` of slot i. */
  listen(i: number): string;
  /** `--advertise` of slot i: the address peers dial (and `--join` uses). */
  advertise(i: number): string;
  /** The address the workload's clients use for slot i. */
  client(i: number): string;
  /** The argv prefix that runs a command in slot i's network (may be empty). */
  wrap(i: number): readonly string[];
  /** Tells the network which process runs slot i (the proxy identifies peers by process). */
  setPid(i: number, pid: number | undefined): void;
  /** Cuts the links between every node of `a` and every node of `b` (both directions). */
  cut(a: readonly number[], b: readonly number[]): Promise<void>;
  /** Degrades every link; returns how (e.g. "netem" or "tbf"), or why it cannot. */
  degrade(d: Degradation): Promise<string>;
  /**
   * Packets the htb+u32 substitute dropped and held so far, summed over nodes (undefined when
   * it is not applied; netem and the proxies do not count).
   */
  shapedCounts?(): Promise<{ dropped: number; held: number } | undefined>;
  /**
   * Restores cut links ("cuts"), removes degradation ("degradation"), or both (default), so
   * that a partition healed during a degradation leaves it in place, and the reverse.
   */
  heal(what?: Healing): Promise<void>;
  /** Removes everything created (namespaces, interfaces, proxies). */
  close(): Promise<void>;
}
