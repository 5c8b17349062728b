/**
 * Histories of client operations, Jepsen-style: every operation is an `invoke` event followed by
 * one completion — `ok` (it took effect, with its result), `fail` (it certainly did not take
 * effect: refused before it was proposed) or `info` (indeterminate: a timeout or a lost connection
 * after the request was sent; it may take effect at any later time, or never).
 */

/** The kind of an event. */
export type EventType = "invoke" | "ok" | "fail" | "info";

/** A register micro-operation and its result (the register is one document: value + txn-revno). */
export type RegisterOp =
  | { readonly f: "read"; readonly key: string; readonly value?: RegisterValue | null }
  | { readonly f: "write"; readonly key: string; readonly value: number }
  | {
      readonly f: "cas";
      readonly key: string;
      /** Expected txn-revno and the new value. */
      readonly value: { readonly revno: number; readonly to: number };
      /** Set on completion: whether the assert held (`applied`) or not (`aborted`). */
      readonly outcome?: "applied" | "aborted";
    };

/** What a read of a register returned: its value and txn-revno (null: no document). */
export interface RegisterValue {
  readonly v: number;
  readonly revno: number;
}

/** A list-append micro-operation: append `value` to `key`, or read `key` (value: the list). */
export type AppendMop =
  readonly ["append", string, number] | readonly ["r", string, readonly number[] | null];

/** One event of a history. `process` ties an invoke to its completion. */
export type HistoryEvent =
  | {
      readonly type: EventType;
      readonly process: number;
      /** Milliseconds since the start of the run. */
      readonly time: number;
      readonly workload: "register";
      readonly op: RegisterOp;
      readonly error?: string;
    }
  | {
      readonly type: EventType;
      readonly process: number;
      readonly time: number;
      readonly workload: "append";
      readonly op: { readonly f: "txn"; readonly value: readonly AppendMop[] };
      readonly error?: string;
    };

/** An operation: its invoke and its completion (an invoke never completed counts as info). */
export interface Operation<E extends HistoryEvent = HistoryEvent> {
  readonly invoke: E;
  readonly complete: E;
  /** Position of the invoke / completion in the history (total order of events). */
  readonly callIndex: number;
  readonly returnIndex: number;
}

/**
 * Pairs invokes with completions by process. A process with an open invoke may not invoke again
 * (a client is single-threaded); an open invoke at the end becomes `info` returning at infinity.
 */
export function pairOperations<E extends HistoryEvent>(history: readonly E[]): Operation<E>[] {
  const open = new Map<number, { e: E; i: number }>();
  const ops: Operation<E>[] = [];
  history.forEach((e, i) => {
    if (e.type === "invoke") {
      if (open.has(e.process))
        throw new Error(`history: process ${e.process} invoked at event ${i} with an open op`);
      open.set(e.process, { e, i });
      return;
    }
    const inv = open.get(e.process);
    if (inv === undefined)
      throw new Error(`history: process ${e.process} completed at event ${i} without an invoke`);
    open.delete(e.process);
    ops.push({ invoke: inv.e, complete: e, callIndex: inv.i, returnIndex: i });
  });
  for (const { e, i } of open.values())
    ops.push({
      invoke: e,
      complete: { ...e, type: "info" },
      callIndex: i,
      returnIndex: Number.POSITIVE_INFINITY,
    });
  return ops.sort((a, b) => a.callIndex - b.callIndex);
}

/** Encodes a history as JSON lines. */
export function toJsonLines(history: readonly HistoryEvent[]): string {
  return history.map((e) => JSON.stringify(e)).join("\n") + (history.length > 0 ? "\n" : "");
}

/** Decodes JSON lines written by `toJsonLines` (trusted input: our own files). */
export function fromJsonLines(text: string): HistoryEvent[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as HistoryEvent);
}
