/**
 * A linearizability checker for register histories (Wing & Gong 1993, with the memoisation of
 * Lowe 2017 / Knossos): a depth-first search for an order of the operations that respects real
 * time (an op that returned before another was invoked comes first) and the register's sequential
 * specification. Histories are partitioned per key first (linearizability is local: Herlihy &
 * Wing 1990, §3.2). An indeterminate (`info`) write or CAS may take effect at any point after its
 * invoke, or never; `fail` ops never took effect. The search is bounded: past `maxStates` explored
 * configurations the verdict for that key is `unknown`, never a guess.
 */
import {
  pairOperations,
  type HistoryEvent,
  type Operation,
  type RegisterOp,
  type RegisterValue,
} from "../history.js";

/** The register's state: its value and txn-revno, or null before the document exists. */
type State = RegisterValue | null;

interface SearchOp {
  readonly call: number;
  readonly ret: number;
  /** Must be linearized (ok), or may be left out (info). */
  readonly required: boolean;
  readonly step: (s: State) => State | undefined;
  readonly describe: string;
}

/** The verdict for one key. */
export type KeyVerdict =
  | { readonly valid: true; readonly key: string; readonly ops: number; readonly explored: number }
  | {
      readonly valid: false;
      readonly key: string;
      readonly ops: number;
      readonly explored: number;
      /** The longest prefix that could be linearized, and the state it left. */
      readonly linearized: readonly string[];
      readonly state: State;
      /** The ops that could have come next, none consistent with the state. */
      readonly stuck: readonly string[];
    }
  | {
      readonly valid: "unknown";
      readonly key: string;
      readonly ops: number;
      readonly explored: number;
    };

/** The verdict for a whole history: false if any key is false, else unknown if any is. */
export interface LinearizabilityVerdict {
  readonly valid: boolean | "unknown";
  readonly keys: readonly KeyVerdict[];
}

function same(a: State, b: RegisterValue | null | undefined): boolean {
  if (a === null || b === null || b === undefined) return a === null && (b ?? null) === null;
  return a.v === b.v && a.revno === b.revno;
}

const show = (s: State): string => (s === null ? "absent" : `v=${s.v}@${s.revno}`);

/** The sequential specification of one register op, or undefined if it has no effect to check. */
function stepOf(op: RegisterOp, completion: HistoryEvent["type"]): SearchOp["step"] | undefined {
  switch (op.f) {
    case "read": {
      if (completion !== "ok") return undefined; // a failed or unknown read observed nothing
      const seen = op.value;
      return (s) => (same(s, seen) ? s : undefined);
    }
    case "write": {
      const to = op.value;
      // An update of a missing document is skipped by mgo/txn (no effect).
      return (s) => (s === null ? s : { v: to, revno: s.revno + 1 });
    }
    case "cas": {
      const { revno, to } = op.value;
      const hit = (s: State): boolean => s !== null && s.revno === revno;
      if (completion === "info")
        return (s) => (hit(s) && s !== null ? { v: to, revno: revno + 1 } : s);
      if (op.outcome === "aborted") return (s) => (hit(s) ? undefined : s);
      return (s) => (hit(s) ? { v: to, revno: revno + 1 } : undefined);
    }
    default: {
      const never: never = op;
      throw new Error(`linearizable: unknown op ${JSON.stringify(never)}`);
    }
  }
}

function describe(o: Operation): string {
  const op = o.complete.op as RegisterOp;
  const t = `[${o.invoke.time}..${o.complete.type === "info" ? "?" : o.complete.time}ms p${o.invoke.process}]`;
  switch (op.f) {
    case "read":
      return `${t} read -> ${op.value === null || op.value === undefined ? "absent" : show(op.value)}`;
    case "write":
      return `${t} write ${op.value} (${o.complete.type})`;
    case "cas":
      return `${t} cas @${op.value.revno} -> ${op.value.to} (${o.complete.type}${op.outcome !== undefined ? ` ${op.outcome}` : ""})`;
  }
}

/** Checks one key's operations, starting from `initial`. */
export function checkKey(
  key: string,
  ops: readonly Operation[],
  initial: State,
  maxStates = 200_000,
): KeyVerdict {
  const search: SearchOp[] = [];
  for (const o of ops) {
    if (o.complete.type === "fail" || o.complete.workload !== "register") continue;
    const step = stepOf(o.complete.op, o.complete.type);
    if (step === undefined) continue;
    const required = o.complete.type === "ok";
    search.push({
      call: o.callIndex,
      ret: required ? o.returnIndex : Number.POSITIVE_INFINITY,
      required,
      step,
      describe: describe(o),
    });
  }
  const n = search.length;
  const seen = new Set<string>();
  let explored = 0;
  let best: { depth: number; path: number[]; state: State; stuck: number[] } = {
    depth: -1,
    path: [],
    state: initial,
    stuck: [],
  };
  const path: number[] = [];
  const requiredLeft = search.filter((s) => s.required).length;

  // Returns true (found), false (exhausted) or null (bound hit).
  const dfs = (done: bigint, state: State, left: number): boolean | null => {
    if (left === 0) return true;
    const memo = `${done.toString(36)}|${show(state)}`;
    if (seen.has(memo)) return false;
    seen.add(memo);
    if (++explored > maxStates) return null;
    let minRet = Number.POSITIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const s = search[i] as SearchOp;
      if ((done & (1n << BigInt(i))) === 0n && s.ret < minRet) minRet = s.ret;
    }
    const stuck: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = search[i] as SearchOp;
      if ((done & (1n << BigInt(i))) !== 0n || s.call > minRet) continue;
      const next = s.step(state);
      if (next === undefined) {
        stuck.push(i);
        continue;
      }
      path.push(i);
      const r = dfs(done | (1n << BigInt(i)), next, left - (s.required ? 1 : 0));
      if (r !== false) return r;
      path.pop();
    }
    if (path.length > best.depth) best = { depth: path.length, path: [...path], state, stuck };
    return false;
  };

  const r = dfs(0n, initial, requiredLeft);
  if (r === true) return { valid: true, key, ops: n, explored };
  if (r === null) return { valid: "unknown", key, ops: n, explored };
  return {
    valid: false,
    key,
    ops: n,
    explored,
    linearized: best.path.map((i) => (search[i] as SearchOp).describe),
    state: best.state,
    stuck: best.stuck.map((i) => (search[i] as SearchOp).describe),
  };
}

/**
 * Checks a register history: every key's operations separately, from the given initial states
 * (a key without one starts absent).
 */
export function checkRegisters(
  history: readonly HistoryEvent[],
  initial: ReadonlyMap<string, RegisterValue> = new Map(),
  maxStates = 200_000,
): LinearizabilityVerdict {
  const byKey = new Map<string, Operation[]>();
  const registers = history.filter(
    (e): e is Extract<HistoryEvent, { workload: "register" }> => e.workload === "register",
  );
  for (const o of pairOperations(registers)) {
    const key = o.invoke.op.key;
    const list = byKey.get(key) ?? [];
    list.push(o);
    byKey.set(key, list);
  }
  const keys = [...byKey].map(([k, ops]) => checkKey(k, ops, initial.get(k) ?? null, maxStates));
  const valid = keys.some((k) => k.valid === false)
    ? false
    : keys.some((k) => k.valid === "unknown")
      ? "unknown"
      : true;
  return { valid, keys };
}
