/**
 * Packet loss, delay and reordering without netem, from what this kernel has (htb, pfifo and the
 * u32 classifier; no netem, prio, tc actions, iptables or nft). Applied on the host's side of
 * each node's veth pair, i.e. to the packets the bridge forwards TO that node, so that a drop
 * happens beyond the sender's stack: a qdisc drop on the sender's own interface is reported to
 * its TCP (NET_XMIT_DROP), which just sends the segment again, never as a loss. There:
 * - an `htb` root whose default class is fast (no limit worth the name);
 * - u32 filters on the IPv4 ID field (offset 4), which a connected TCP socket steps by one per
 *   packet it sends (Linux, DF set): packets whose low `lossBits` bits are 0 go to a drop class
 *   whose queue holds nothing (`pfifo limit 0`: every packet dropped, a loss of 1/2^lossBits);
 *   packets whose ID is 1 modulo 2^holdBits (odd: never a dropped one) go to a slow class (a
 *   low htb rate and a short pfifo), where they wait while later packets of the same
 *   connection pass: reordering as TCP sees it, and delay (a full-size packet waits `delayMs`
 *   behind the rate; a full queue drops);
 * - ID 0 (SYN, SYN-ACK, RST: not yet a connected socket) and packets from the host (the
 *   workload's clients: only links between nodes are degraded) stay fast.
 * GSO is limited to one segment per packet on the nodes while shaped, so that the filters see
 * (and pick) single segments. Unlike netem the choice is not random: a fixed fraction, periodic
 * in each connection's packet count (pure ACKs and retransmissions shift the pattern).
 */
import type { Degradation } from "./net-types.js";

/** What the substitute applies for a Degradation. */
export interface Shape {
  /** Packets with ID ≡ 0 (mod 2^lossBits), ID ≠ 0, are dropped. */
  readonly lossBits: number;
  /** Packets with ID ≡ 1 (mod 2^holdBits) are held in the slow class. */
  readonly holdBits: number;
  /** The slow class's rate in kbit/s. */
  readonly slowKbit: number;
  /** The slow class's queue in packets (beyond it: dropped too). */
  readonly slowQueue: number;
}

/** The power of two nearest (in ratio) to a percentage, as bits: 10 % → 3 (1/8). */
const bitsFor = (pct: number): number =>
  Math.min(8, Math.max(1, Math.round(-Math.log2(Math.max(pct, 0.4) / 100))));

/** The shape approximating `d`: loss and hold fractions as powers of two, the slow rate. */
export function shapeFor(d: Degradation): Shape {
  // A 1514-byte frame takes delayMs at this rate: 1514 * 8 bits / delayMs = kbit/s.
  const slowKbit = Math.max(8, Math.round((1514 * 8) / Math.max(1, d.delayMs)));
  // Jitter is the queue: 0 to 7 packets ahead (up to 8 × delayMs); arrivals beyond it drop.
  const slowQueue = 8;
  return { lossBits: bitsFor(d.lossPct), holdBits: bitsFor(d.reorderPct), slowKbit, slowQueue };
}

/** A one-line account of a shape (the fault record's detail). */
export function describeShape(s: Shape): string {
  const pct = (bits: number): string => `${(100 / 2 ** bits).toFixed(1)}%`;
  return (
    `htb+u32 (no netem in this kernel): drop ${pct(s.lossBits)} of packets, hold ` +
    `${pct(s.holdBits)} behind a ${s.slowKbit} kbit/s class (queue ${s.slowQueue}) so later ` +
    `ones overtake them, picked by IP ID`
  );
}

/**
 * The `tc` argument lists (without "tc") that shape the egress of `dev` (delete its root
 * qdisc first); packets from `fastSrc` (an IPv4 address) are left alone.
 */
export function shapeCommands(dev: string, s: Shape, fastSrc: string): string[][] {
  const mask = (bits: number): string => `0x${((1 << bits) - 1).toString(16).padStart(4, "0")}`;
  const filter = (prio: number, match: readonly string[], flow: string): string[] => [
    ...["filter", "add", "dev", dev, "parent", "1:", "protocol", "ip", "prio", String(prio)],
    ...["u32", "match", ...match, "flowid", flow],
  ];
  const mtu = "1514";
  const cls = (id: string, kbit: string, quantum: string): string[] => [
    ...["class", "add", "dev", dev, "parent", "1:", "classid", id, "htb"],
    ...["rate", kbit, "ceil", kbit, "burst", mtu, "cburst", mtu, "quantum", quantum],
  ];
  const fifo = (parent: string, handle: string, limit: number): string[] => [
    ...["qdisc", "add", "dev", dev, "parent", parent, "handle", handle, "pfifo"],
    ...["limit", String(limit)],
  ];
  return [
    ["qdisc", "add", "dev", dev, "root", "handle", "1:", "htb", "default", "10"],
    ["class", "add", "dev", dev, "parent", "1:", "classid", "1:10", "htb", "rate", "10gbit"],
    cls("1:20", `${s.slowKbit}kbit`, mtu),
    cls("1:30", "8kbit", mtu),
    fifo("1:20", "20:", s.slowQueue),
    // limit 0: the queue never has room, every packet classified here is dropped.
    fifo("1:30", "30:", 0),
    filter(1, ["ip", "src", `${fastSrc}/32`], "1:10"),
    filter(2, ["u16", "0x0000", "0xffff", "at", "4"], "1:10"),
    filter(3, ["u16", "0x0000", mask(s.lossBits), "at", "4"], "1:30"),
    filter(4, ["u16", "0x0001", mask(s.holdBits), "at", "4"], "1:20"),
  ];
}

/**
 * Reads `tc -s qdisc show` of a shaped interface: packets dropped by the drop class (30:) and
 * sent by the slow class (20:). Undefined if the interface is not shaped.
 */
export function parseShapedCounts(tcOut: string): { dropped: number; held: number } | undefined {
  const stat = (handle: string): { sent: number; dropped: number } | undefined => {
    const m = new RegExp(
      `qdisc pfifo ${handle}: [^\\n]*\\n\\s*Sent \\d+ bytes (\\d+) pkt \\(dropped (\\d+)`,
    ).exec(tcOut);
    return m === null ? undefined : { sent: Number(m[1]), dropped: Number(m[2]) };
  };
  const drop = stat("30");
  const slow = stat("20");
  if (drop === undefined || slow === undefined) return undefined;
  return { dropped: drop.dropped, held: slow.sent + slow.dropped };
}
