/** Records a history as it happens, and the faults injected (for the verdict and the timeline). */
import type { HistoryEvent } from "./history.js";

/** A fault, from its start to its end (ms since the start of the run). */
export interface FaultRecord {
  readonly kind: string;
  detail: string;
  readonly start: number;
  end?: number;
}

/** A history and its faults, timed from one origin. */
export class Recorder {
  readonly events: HistoryEvent[] = [];
  readonly faults: FaultRecord[] = [];
  readonly #t0 = performance.now();

  /** Milliseconds since the start of the run. */
  now(): number {
    return Math.round(performance.now() - this.#t0);
  }

  /** Appends an event, stamping its time. */
  push(e: Omit<HistoryEvent, "time">): void {
    this.events.push({ ...e, time: this.now() } as HistoryEvent);
  }

  /** Records the start of a fault; call `end` on the result when it is healed. */
  fault(kind: string, detail: string): FaultRecord {
    const f: FaultRecord = { kind, detail, start: this.now() };
    this.faults.push(f);
    return f;
  }

  /** Marks a fault healed. */
  end(f: FaultRecord): void {
    f.end ??= this.now();
  }
}
