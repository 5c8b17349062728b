/**
 * An Elle-style checker for list-append histories (Kingsbury & Alvaro, "Elle: Inferring Isolation
 * Anomalies from Experimental Observations", VLDB 2020). Appends of unique values to per-key lists
 * make every read reveal the order of the writes before it, so the version order of each key is
 * recovered from the longest read, and write-write, write-read and read-write (anti-)dependencies
 * between transactions follow. With real-time edges added, any cycle is a violation of strict
 * serializability (which a linearizable Raft log of whole transactions promises). Also checked:
 * duplicates in a read, reads of values nobody appended or of failed transactions, reads that are
 * not prefixes of one another, and acknowledged appends missing from the final reads.
 */
import { pairOperations, type AppendMop, type HistoryEvent, type Operation } from "../history.js";

/** An anomaly found, with what is needed to see it by hand. */
export type Anomaly =
  | { readonly type: "duplicate-elements"; readonly key: string; readonly read: readonly number[] }
  | { readonly type: "garbage-read"; readonly key: string; readonly value: number }
  | { readonly type: "aborted-read"; readonly key: string; readonly value: number }
  | {
      readonly type: "incompatible-order";
      readonly key: string;
      readonly a: readonly number[];
      readonly b: readonly number[];
    }
  | { readonly type: "lost-append"; readonly key: string; readonly value: number }
  | {
      readonly type: "cycle";
      /** The edge kinds along the cycle, e.g. ["wr", "rw"] (G-single) or with "rt" (real time). */
      readonly kinds: readonly EdgeKind[];
      readonly txns: readonly string[];
    };

/** A dependency edge kind. */
export type EdgeKind = "ww" | "wr" | "rw" | "rt";

/** The checker's verdict. */
export interface ListAppendVerdict {
  readonly valid: boolean;
  readonly anomalies: readonly Anomaly[];
  readonly stats: {
    readonly txns: number;
    readonly ok: number;
    readonly info: number;
    readonly fail: number;
  };
}

type Txn = Operation;
const mopsOf = (o: Txn): readonly AppendMop[] =>
  o.complete.workload === "append" ? o.complete.op.value : [];

const describe = (o: Txn): string =>
  `p${o.invoke.process}@${o.invoke.time}ms ${o.complete.type} ${JSON.stringify(mopsOf(o))}`;

/** Reads (key, list) of an ok transaction. */
function readsOf(o: Txn): [string, readonly number[]][] {
  if (o.complete.type !== "ok") return [];
  const out: [string, readonly number[]][] = [];
  for (const m of mopsOf(o)) if (m[0] === "r" && m[2] !== null) out.push([m[1], m[2]]);
  return out;
}

const elemKey = (k: string, v: number): string => `${k}\u0000${v}`;

/**
 * Checks a list-append history. `finalReads` are ok read transactions taken after healing; an
 * acknowledged append missing from the final read of its key is lost.
 */
export function checkListAppend(
  history: readonly HistoryEvent[],
  opts: { finalAfter?: number } = {},
): ListAppendVerdict {
  const txns = pairOperations(history.filter((e) => e.workload === "append"));
  const anomalies: Anomaly[] = [];
  const writer = new Map<string, Txn>();
  for (const t of txns) {
    for (const m of mopsOf(t)) {
      if (m[0] !== "append") continue;
      const ek = elemKey(m[1], m[2]);
      if (writer.has(ek)) throw new Error(`list-append: value ${m[2]} appended twice to ${m[1]}`);
      writer.set(ek, t);
    }
  }
  // Version order per key: the longest read; every other read must be a prefix of it.
  const longest = new Map<string, readonly number[]>();
  for (const t of txns) {
    for (const [k, l] of readsOf(t)) {
      if (new Set(l).size !== l.length)
        anomalies.push({ type: "duplicate-elements", key: k, read: l });
      for (const v of l) {
        const w = writer.get(elemKey(k, v));
        if (w === undefined) anomalies.push({ type: "garbage-read", key: k, value: v });
        else if (w.complete.type === "fail")
          anomalies.push({ type: "aborted-read", key: k, value: v });
      }
      const cur = longest.get(k) ?? [];
      const [short, long] = l.length <= cur.length ? [l, cur] : [cur, l];
      if (!short.every((v, i) => long[i] === v)) {
        anomalies.push({ type: "incompatible-order", key: k, a: cur, b: l });
        continue;
      }
      longest.set(k, long);
    }
  }
  // Lost appends: acknowledged, yet absent from the final reads.
  if (opts.finalAfter !== undefined) {
    const finalSeen = new Map<string, Set<number>>();
    for (const t of txns) {
      if (t.invoke.time < opts.finalAfter) continue;
      for (const [k, l] of readsOf(t)) finalSeen.set(k, new Set(l));
    }
    for (const t of txns) {
      if (t.complete.type !== "ok") continue;
      for (const m of mopsOf(t)) {
        if (m[0] !== "append") continue;
        if (finalSeen.get(m[1])?.has(m[2]) !== true)
          anomalies.push({ type: "lost-append", key: m[1], value: m[2] });
      }
    }
  }
  const cycle = findCycle(txns, writer, longest);
  if (cycle !== undefined) anomalies.push(cycle);
  return {
    valid: anomalies.length === 0,
    anomalies,
    stats: {
      txns: txns.length,
      ok: txns.filter((t) => t.complete.type === "ok").length,
      info: txns.filter((t) => t.complete.type === "info").length,
      fail: txns.filter((t) => t.complete.type === "fail").length,
    },
  };
}

/** Builds the dependency graph and returns one cycle, if any. */
function findCycle(
  txns: readonly Txn[],
  writer: ReadonlyMap<string, Txn>,
  longest: ReadonlyMap<string, readonly number[]>,
): Anomaly | undefined {
  // Nodes: ok txns, and info txns whose appends were observed (they committed).
  const observed = new Set<Txn>();
  for (const [k, l] of longest)
    for (const v of l) {
      const w = writer.get(elemKey(k, v));
      if (w !== undefined) observed.add(w);
    }
  const nodes = txns.filter((t) => t.complete.type === "ok" || observed.has(t));
  const id = new Map(nodes.map((t, i) => [t, i]));
  const edges: Map<number, EdgeKind>[] = nodes.map(() => new Map<number, EdgeKind>());
  const add = (a: Txn | undefined, b: Txn | undefined, kind: EdgeKind): void => {
    const ia = a === undefined ? undefined : id.get(a);
    const ib = b === undefined ? undefined : id.get(b);
    if (ia === undefined || ib === undefined || ia === ib) return;
    const m = edges[ia] as Map<number, EdgeKind>;
    if (!m.has(ib)) m.set(ib, kind);
  };
  for (const [k, l] of longest)
    for (let i = 0; i + 1 < l.length; i++)
      add(writer.get(elemKey(k, l[i] as number)), writer.get(elemKey(k, l[i + 1] as number)), "ww");
  for (const t of nodes) {
    for (const [k, l] of readsOf(t)) {
      const order = longest.get(k) ?? [];
      if (l.length > 0) add(writer.get(elemKey(k, l[l.length - 1] as number)), t, "wr");
      const next = order[l.length];
      if (next !== undefined) add(t, writer.get(elemKey(k, next)), "rw");
    }
  }
  // Real-time edges, transitively reduced: each invoke depends on the ops completed and not yet
  // superseded by a later completion that itself follows them.
  const events: { at: number; t: Txn; kind: "call" | "ret" }[] = [];
  for (const t of nodes) {
    events.push({ at: t.callIndex, t, kind: "call" });
    if (t.complete.type === "ok") events.push({ at: t.returnIndex, t, kind: "ret" });
  }
  events.sort((a, b) => a.at - b.at);
  let frontier = new Set<Txn>();
  const before = new Map<Txn, Set<Txn>>();
  for (const e of events) {
    if (e.kind === "call") {
      before.set(e.t, new Set(frontier));
      for (const f of frontier) add(f, e.t, "rt");
    } else {
      const preds = before.get(e.t) ?? new Set();
      frontier = new Set([...frontier].filter((f) => !preds.has(f)));
      frontier.add(e.t);
    }
  }
  const cyc = cycleIn(edges);
  if (cyc === undefined) return undefined;
  const kinds = cyc.map(
    (a, i) =>
      (edges[a] as Map<number, EdgeKind>).get(cyc[(i + 1) % cyc.length] as number) as EdgeKind,
  );
  return { type: "cycle", kinds, txns: cyc.map((i) => describe(nodes[i] as Txn)) };
}

/** One cycle of a directed graph (iterative DFS, white/grey/black), as node indices in order. */
export function cycleIn(edges: readonly ReadonlyMap<number, unknown>[]): number[] | undefined {
  const color = new Uint8Array(edges.length);
  const parent = new Int32Array(edges.length).fill(-1);
  for (let root = 0; root < edges.length; root++) {
    if (color[root] !== 0) continue;
    const stack: [number, Iterator<number>][] = [
      [root, (edges[root] as ReadonlyMap<number, unknown>).keys()],
    ];
    color[root] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as [number, Iterator<number>];
      const nx = top[1].next();
      if (nx.done === true) {
        color[top[0]] = 2;
        stack.pop();
        continue;
      }
      const v = nx.value;
      if (color[v] === 1) {
        // The grey path v -> ... -> top, closed by the edge top -> v.
        const path: number[] = [];
        for (let u = top[0]; u !== v; u = parent[u] as number) path.push(u);
        path.push(v);
        return path.reverse();
      }
      if (color[v] === 0) {
        color[v] = 1;
        parent[v] = top[0];
        stack.push([v, (edges[v] as ReadonlyMap<number, unknown>).keys()]);
      }
    }
  }
  return undefined;
}
