/**
 * The checkers on hand-made histories: valid ones accepted, and classic anomalies (stale read,
 * lost write, impossible CAS, G0/G1c/G-single cycles, lost and duplicated appends) rejected.
 */
import { checkConvergence, type NodeDump } from "./checker/convergence.js";
import { checkRegisters } from "./checker/linearizable.js";
import { checkListAppend, cycleIn } from "./checker/list-append.js";
import type { AppendMop, EventType, HistoryEvent, RegisterOp } from "./history.js";
import { fromJsonLines, toJsonLines } from "./history.js";
import { timelineSvg } from "./svg.js";

let clock = 0;
const reg = (process: number, type: EventType, op: RegisterOp): HistoryEvent => ({
  type,
  process,
  time: clock++,
  workload: "register",
  op,
});
const txn = (process: number, type: EventType, value: readonly AppendMop[]): HistoryEvent => ({
  type,
  process,
  time: clock++,
  workload: "append",
  op: { f: "txn", value },
});
const init = new Map([["x", { v: 0, revno: 2 }]]);
const r = (v: number, revno: number): RegisterOp => ({ f: "read", key: "x", value: { v, revno } });
const rInv: RegisterOp = { f: "read", key: "x" };
const w = (v: number): RegisterOp => ({ f: "write", key: "x", value: v });

describe("register linearizability", () => {
  test("sequential writes and reads are linearizable", () => {
    const h = [
      reg(1, "invoke", w(1)),
      reg(1, "ok", w(1)),
      reg(2, "invoke", rInv),
      reg(2, "ok", r(1, 3)),
    ];
    expect(checkRegisters(h, init).valid).toBe(true);
  });

  test("a stale read after a completed write is rejected, naming the stuck op", () => {
    const h = [
      reg(1, "invoke", w(1)),
      reg(1, "ok", w(1)),
      reg(2, "invoke", rInv),
      reg(2, "ok", r(0, 2)),
    ];
    const v = checkRegisters(h, init);
    expect(v.valid).toBe(false);
    const k = v.keys[0];
    if (k?.valid !== false) throw new Error("expected a failed key");
    expect(k.stuck.some((s) => s.includes("read -> v=0@2"))).toBe(true);
  });

  test("concurrent write and read may see either value", () => {
    for (const seen of [r(0, 2), r(1, 3)]) {
      const h = [
        reg(1, "invoke", w(1)),
        reg(2, "invoke", rInv),
        reg(2, "ok", seen),
        reg(1, "ok", w(1)),
      ];
      expect(checkRegisters(h, init).valid).toBe(true);
    }
  });

  test("an indeterminate write may take effect late, or never", () => {
    const late = [
      reg(1, "invoke", w(5)),
      reg(1, "info", w(5)),
      reg(2, "invoke", rInv),
      reg(2, "ok", r(0, 2)),
      reg(2, "invoke", rInv),
      reg(2, "ok", r(5, 3)),
    ];
    expect(checkRegisters(late, init).valid).toBe(true);
    const never = [
      reg(1, "invoke", w(5)),
      reg(1, "info", w(5)),
      reg(2, "invoke", rInv),
      reg(2, "ok", r(0, 2)),
    ];
    expect(checkRegisters(never, init).valid).toBe(true);
  });

  test("a failed write must not be observed", () => {
    const h = [
      reg(1, "invoke", w(5)),
      reg(1, "fail", w(5)),
      reg(2, "invoke", rInv),
      reg(2, "ok", r(5, 3)),
    ];
    expect(checkRegisters(h, init).valid).toBe(false);
  });

  test("an indeterminate write cannot take effect twice (revno moves once)", () => {
    const h = [
      reg(1, "invoke", w(5)),
      reg(1, "info", w(5)),
      reg(2, "invoke", rInv),
      reg(2, "ok", r(5, 3)),
      reg(3, "invoke", rInv),
      reg(3, "ok", r(5, 4)),
    ];
    expect(checkRegisters(h, init).valid).toBe(false);
  });

  test("CAS: applied needs the revno, aborted needs a different one", () => {
    const cas = (revno: number, to: number, outcome?: "applied" | "aborted"): RegisterOp => ({
      f: "cas",
      key: "x",
      value: { revno, to },
      ...(outcome !== undefined ? { outcome } : {}),
    });
    const good = [
      reg(1, "invoke", cas(2, 7)),
      reg(1, "ok", cas(2, 7, "applied")),
      reg(1, "invoke", cas(2, 8)),
      reg(1, "ok", cas(2, 8, "aborted")),
      reg(2, "invoke", rInv),
      reg(2, "ok", r(7, 3)),
    ];
    expect(checkRegisters(good, init).valid).toBe(true);
    const twice = [
      reg(1, "invoke", cas(2, 7)),
      reg(1, "ok", cas(2, 7, "applied")),
      reg(2, "invoke", cas(2, 8)),
      reg(2, "ok", cas(2, 8, "applied")),
    ];
    expect(checkRegisters(twice, init).valid).toBe(false);
    const wrongAbort = [reg(1, "invoke", cas(2, 7)), reg(1, "ok", cas(2, 7, "aborted"))];
    expect(checkRegisters(wrongAbort, init).valid).toBe(false);
  });

  test("keys are checked separately; a bound too small gives unknown, never a guess", () => {
    const h: HistoryEvent[] = [];
    for (let p = 0; p < 12; p++) h.push(reg(p, "invoke", w(p + 10)), reg(p, "info", w(p + 10)));
    h.push(reg(99, "invoke", rInv), reg(99, "ok", r(3, 9)));
    expect(checkRegisters(h, init, 5).valid).toBe("unknown");
    expect(checkRegisters(h, init).valid).toBe(false);
    const other: RegisterOp = { f: "read", key: "y", value: null };
    expect(
      checkRegisters([reg(1, "invoke", { f: "read", key: "y" }), reg(1, "ok", other)], init).valid,
    ).toBe(true);
  });

  test("histories survive the JSON lines round trip", () => {
    const h = [reg(1, "invoke", w(1)), reg(1, "ok", w(1))];
    expect(fromJsonLines(toJsonLines(h))).toEqual(h);
  });
});

describe("list-append (Elle-style)", () => {
  const ap = (k: string, v: number): AppendMop => ["append", k, v];
  const rd = (k: string, l: number[] | null): AppendMop => ["r", k, l];

  test("serial appends and reads are valid", () => {
    const h = [
      txn(1, "invoke", [ap("a", 1), ap("b", 1)]),
      txn(1, "ok", [ap("a", 1), ap("b", 1)]),
      txn(2, "invoke", [rd("a", null), rd("b", null)]),
      txn(2, "ok", [rd("a", [1]), rd("b", [1])]),
    ];
    const v = checkListAppend(h, { finalAfter: 0 });
    expect(v).toMatchObject({ valid: true, anomalies: [] });
  });

  test("a lost acknowledged append is reported", () => {
    const h = [
      txn(1, "invoke", [ap("a", 1)]),
      txn(1, "ok", [ap("a", 1)]),
      txn(2, "invoke", [rd("a", null)]),
      txn(2, "ok", [rd("a", [])]),
    ];
    const v = checkListAppend(h, { finalAfter: 0 });
    expect(v.valid).toBe(false);
    expect(v.anomalies).toContainEqual({ type: "lost-append", key: "a", value: 1 });
  });

  test("duplicates, garbage, aborted reads and incompatible orders are reported", () => {
    const h = [
      txn(1, "invoke", [ap("a", 1)]),
      txn(1, "ok", [ap("a", 1)]),
      txn(2, "invoke", [ap("a", 2)]),
      txn(2, "fail", [ap("a", 2)]),
      txn(3, "invoke", [ap("a", 3)]),
      txn(3, "info", [ap("a", 3)]),
      txn(4, "invoke", [rd("a", null)]),
      txn(4, "ok", [rd("a", [1, 1])]),
      txn(4, "invoke", [rd("a", null)]),
      txn(4, "ok", [rd("a", [1, 2, 9])]),
      txn(4, "invoke", [rd("a", null)]),
      txn(4, "ok", [rd("a", [3])]),
    ];
    const types = checkListAppend(h).anomalies.map((a) => a.type);
    expect(types).toEqual(
      expect.arrayContaining([
        "duplicate-elements",
        "aborted-read",
        "garbage-read",
        "incompatible-order",
      ]),
    );
  });

  test("G-single (read skew) is a wr/rw cycle", () => {
    // T1 appends to a and b atomically; T2 sees T1's a but not T1's b.
    const h = [
      txn(1, "invoke", [ap("a", 1), ap("b", 1)]),
      txn(2, "invoke", [rd("a", null), rd("b", null)]),
      txn(2, "ok", [rd("a", [1]), rd("b", [])]),
      txn(1, "ok", [ap("a", 1), ap("b", 1)]),
      txn(3, "invoke", [rd("b", null)]),
      txn(3, "ok", [rd("b", [1])]),
    ];
    const v = checkListAppend(h);
    expect(v.valid).toBe(false);
    const c = v.anomalies.find((a) => a.type === "cycle");
    expect(c).toBeDefined();
    if (c?.type === "cycle") expect([...c.kinds].sort()).toEqual(["rw", "wr"]);
  });

  test("G0 (write cycle): two txns ordered differently on two keys", () => {
    const h = [
      txn(1, "invoke", [ap("a", 1), ap("b", 1)]),
      txn(2, "invoke", [ap("a", 2), ap("b", 2)]),
      txn(1, "ok", [ap("a", 1), ap("b", 1)]),
      txn(2, "ok", [ap("a", 2), ap("b", 2)]),
      txn(3, "invoke", [rd("a", null), rd("b", null)]),
      txn(3, "ok", [rd("a", [1, 2]), rd("b", [2, 1])]),
    ];
    const c = checkListAppend(h).anomalies.find((a) => a.type === "cycle");
    if (c?.type !== "cycle") throw new Error("expected a cycle");
    expect(c.kinds).toEqual(["ww", "ww"]);
  });

  test("a stale read in real time is a cycle through an rt edge", () => {
    const h = [
      txn(1, "invoke", [ap("a", 1)]),
      txn(1, "ok", [ap("a", 1)]),
      txn(2, "invoke", [rd("a", null)]),
      txn(2, "ok", [rd("a", [])]),
      txn(3, "invoke", [rd("a", null)]),
      txn(3, "ok", [rd("a", [1])]),
    ];
    const c = checkListAppend(h).anomalies.find((a) => a.type === "cycle");
    if (c?.type !== "cycle") throw new Error("expected a cycle");
    expect(c.kinds).toContain("rt");
    expect(c.kinds).toContain("rw");
  });

  test("concurrent reads seeing either side of an append are valid", () => {
    const h = [
      txn(1, "invoke", [ap("a", 1)]),
      txn(2, "invoke", [rd("a", null)]),
      txn(3, "invoke", [rd("a", null)]),
      txn(2, "ok", [rd("a", [])]),
      txn(3, "ok", [rd("a", [1])]),
      txn(1, "ok", [ap("a", 1)]),
    ];
    expect(checkListAppend(h).valid).toBe(true);
  });

  test("cycleIn finds a cycle and none in a DAG", () => {
    expect(cycleIn([new Map([[1, 0]]), new Map([[2, 0]]), new Map()])).toBeUndefined();
    const c = cycleIn([new Map([[1, 0]]), new Map([[2, 0]]), new Map([[0, 0]])]);
    expect(c?.length).toBe(3);
  });
});

describe("convergence", () => {
  const d = (node: string, index: bigint, bytes: number[]): NodeDump => ({
    node,
    appliedIndex: index,
    bytes: Uint8Array.from(bytes),
  });

  test("identical dumps at one index converge", () => {
    expect(checkConvergence([d("a", 5n, [1, 2, 3]), d("b", 5n, [1, 2, 3])])).toEqual({
      valid: true,
      nodes: 2,
      bytes: 3,
      index: "5",
    });
  });

  test("a different byte, a shorter dump or another index is rejected", () => {
    const diff = checkConvergence([d("a", 5n, [1, 2, 3]), d("b", 5n, [1, 9, 3])]);
    expect(diff).toMatchObject({ valid: false, why: "dumps at the same index differ" });
    if (!diff.valid) expect(diff.dumps[1]?.firstDiff).toBe(1);
    const short = checkConvergence([d("a", 5n, [1, 2, 3]), d("b", 5n, [1, 2])]);
    if (short.valid) throw new Error("expected a difference");
    expect(short.dumps[1]?.firstDiff).toBe(2);
    expect(checkConvergence([d("a", 5n, [1]), d("b", 6n, [1])])).toMatchObject({ valid: false });
    expect(checkConvergence([])).toMatchObject({ valid: false, why: "no dumps" });
  });
});

describe("timeline", () => {
  test("one bar per operation and one band per fault, escaped", () => {
    const h = [
      reg(1, "invoke", w(1)),
      reg(1, "ok", w(1)),
      reg(2, "invoke", rInv),
      reg(2, "info", rInv),
    ];
    const svg = timelineSvg(h, [{ kind: "kill", detail: "kill -9 <n0>", start: 0, end: 3 }], "t");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.match(/<rect /g)?.length).toBe(3);
    expect(svg).toContain("kill -9 &lt;n0&gt;");
    expect(svg).toContain('fill="#f90"');
  });
});
