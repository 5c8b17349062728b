import { performance } from "node:perf_hooks";
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from "@opentelemetry/api";
import type { Entry, Message, Role } from "../raft/index.js";
import { traceContextOfCommand } from "./entry-context.js";
import type { AppliedOutcome, HookToken, RaftTelemetry } from "./hooks.js";
import type { NodeMetrics } from "./metrics.js";
import { parentOf } from "./scope.js";
import type { TraceCarrier, Tracing } from "./tracing.js";

/** Attribute names (OpenTelemetry style: namespaced, snake_case). */
export const attr = {
  node: "juraft.node",
  role: "juraft.raft.role",
  term: "juraft.raft.term",
  index: "juraft.raft.index",
  peer: "juraft.raft.peer",
  batch: "juraft.raft.batch_size",
  bytes: "juraft.raft.bytes",
  sync: "juraft.raft.sync",
  txnId: "juraft.txn.id",
  collections: "juraft.txn.collections",
  ops: "juraft.txn.op_count",
  outcome: "juraft.txn.outcome",
  reason: "juraft.txn.abort_reason",
  failedOp: "juraft.txn.failed_op",
  failedAssert: "juraft.txn.failed_assert",
  duplicate: "juraft.txn.duplicate",
  retries: "juraft.client.retry_count",
} as const;

/** A proposal of this node (while it leads) between propose and apply. */
interface Pending {
  readonly term: number;
  readonly started: number;
  readonly span: Span | undefined;
  readonly ctx: Context | undefined;
  commit: Span | undefined;
  committed: boolean;
  /** Sampled only: the followers an append carrying it went to, and those that acknowledged. */
  readonly sentTo: Set<bigint> | undefined;
  readonly ackedBy: Set<bigint> | undefined;
}

interface PersistToken {
  readonly started: number;
  readonly sync: boolean;
  readonly spans: readonly Span[];
}

interface ApplyToken {
  readonly started: number;
  readonly span: Span | undefined;
}

/**
 * Whether a W3C carrier names a sampled parent. Entries carry a context only when sampled (see
 * {@link RaftSpans.propose}), so followers test an empty map: the common case at a low ratio.
 */
export function sampledCarrier(carrier: TraceCarrier): boolean {
  return carrier["traceparent"] !== undefined && parentOf(carrier) === "sampled";
}

/** The trace context of an entry that is not traced. */
const untracedEntry: TraceCarrier = Object.freeze({});

/** Bounds the proposals followed at once (a leader that loses many keeps no garbage). */
const MAX_PENDING = 100_000;

/** Renders a failing assert for an attribute: short, never throws. */
function describeAssert(v: unknown): string {
  try {
    const s = JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x));
    return s.length > 256 ? s.slice(0, 253) + "..." : s;
  } catch (err) {
    return `unprintable (${String(err)})`;
  }
}

/** Attributes of a persisted batch: entry count, bytes of normal entries, whether synced. */
function batchAttributes(entries: readonly Entry[], sync: boolean): Attributes {
  let bytes = 0;
  for (const e of entries) if (e.type === "normal") bytes += e.data.length;
  return { [attr.batch]: entries.length, [attr.bytes]: bytes, [attr.sync]: sync };
}

/** Sets outcome attributes of an applied entry on `span`. */
export function outcomeAttributes(r: AppliedOutcome): Attributes {
  const a: Attributes = { [attr.outcome]: r.outcome };
  if (r.duplicate === true) a[attr.duplicate] = true;
  if (r.reason !== undefined) a[attr.reason] = r.reason;
  if (r.op !== undefined) a[attr.failedOp] = r.op;
  if (r.assert !== undefined && r.assert !== null) a[attr.failedAssert] = describeAssert(r.assert);
  return a;
}

/**
 * The runtime's spans and metrics (DESIGN.md §10). The trace of a transaction on the leader:
 * `juraft.propose` (proposal to local apply) with children `juraft.append` (durable write),
 * `juraft.commit` (proposal to quorum; its events `juraft.replicate.sent` and
 * `juraft.replicate.acked` name each follower an append went to and when it acknowledged) and
 * `juraft.apply`. Replication is events, not a span per follower: each span a sampled
 * transaction makes costs (node/telemetry/deferred.ts). The entry carries the propose span's W3C
 * context, so every follower's `juraft.append` and `juraft.apply` are children of the leader's
 * propose span (children, not links: one tree shows the whole transaction in Jaeger).
 */
export class RaftSpans implements RaftTelemetry {
  readonly #tracing: Tracing | undefined;
  readonly #metrics: NodeMetrics | undefined;
  readonly #node: string;
  readonly #pending = new Map<number, Pending>();
  /** The sampled ones of #pending: at a low ratio usually none, and then sent/stepped are free. */
  readonly #sampled = new Map<number, Pending>();
  #begun: { span: Span | undefined; ctx: Context | undefined; started: number } | undefined;
  #role: Role = "follower";
  #term = 0;
  #leader = 0n;
  #election: Span | undefined;

  /** Either part may be absent (tracing off, metrics off). */
  constructor(o: { node: string; tracing?: Tracing; metrics?: NodeMetrics }) {
    this.#tracing = o.tracing;
    this.#metrics = o.metrics;
    this.#node = o.node;
  }

  #base(index?: number): Attributes {
    const a: Attributes = {
      [attr.node]: this.#node,
      [attr.role]: this.#role,
      [attr.term]: this.#term,
    };
    if (index !== undefined) a[attr.index] = index;
    return a;
  }

  #start(name: string, parent: Context, attrs: Attributes, kind = SpanKind.INTERNAL): Span {
    const t = this.#tracing as Tracing;
    return t.tracer.startSpan(name, { kind, attributes: attrs }, parent);
  }

  now(): number {
    return performance.now();
  }

  propose(txnId: string, carrier: TraceCarrier): TraceCarrier {
    const t = this.#tracing;
    if (t === undefined) {
      this.#begun = this.#metrics === undefined ? undefined : this.#unsampled();
      return carrier;
    }
    // The caller decided (parent-based): an unsampled transaction records nothing anywhere and
    // its entry carries no context, so followers do nothing for it either. Proposals join the
    // caller's trace and never start one (every API call has a decided scope).
    const from = carrier["traceparent"] === undefined ? "none" : parentOf(carrier);
    const span =
      from === "sampled" || (from === "unsampled" && !t.parentBased)
        ? this.#start("juraft.propose", t.extract(carrier), {
            ...this.#base(),
            [attr.txnId]: txnId,
          })
        : undefined;
    if (span?.isRecording() !== true) {
      this.#begun = this.#metrics === undefined ? undefined : this.#unsampled();
      return untracedEntry;
    }
    const ctx = trace.setSpan(ROOT_CONTEXT, span);
    this.#begun = { span, ctx, started: performance.now() };
    return t.inject(ctx);
  }

  /** A proposal followed for its metrics only. */
  #unsampled(): { span: undefined; ctx: undefined; started: number } {
    return { span: undefined, ctx: undefined, started: performance.now() };
  }

  proposed(index: number, term: number, done: Promise<AppliedOutcome>): void {
    const b = this.#begun;
    this.#begun = undefined;
    if (b === undefined) return;
    b.span?.setAttribute(attr.index, index);
    const recording = b.span?.isRecording() === true;
    const ctx = recording ? b.ctx : undefined;
    if (this.#pending.size < MAX_PENDING) {
      const sampled = ctx !== undefined;
      const p: Pending = {
        term,
        started: b.started,
        span: recording ? b.span : undefined,
        ctx,
        commit: sampled ? this.#start("juraft.commit", ctx, this.#base(index)) : undefined,
        committed: false,
        sentTo: sampled ? new Set() : undefined,
        ackedBy: sampled ? new Set() : undefined,
      };
      this.#pending.set(index, p);
      if (sampled) this.#sampled.set(index, p);
    }
    done.then(
      (r) => {
        this.#metrics?.proposals.inc({ outcome: r.outcome });
        b.span?.setAttributes(outcomeAttributes(r));
        b.span?.end();
      },
      (err: unknown) => {
        this.#metrics?.proposals.inc({ outcome: "failed" });
        this.#fail(b.span, err);
        this.#drop(index, err);
      },
    );
  }

  proposeFailed(err: unknown): void {
    const b = this.#begun;
    this.#begun = undefined;
    this.#metrics?.proposals.inc({ outcome: "failed" });
    this.#fail(b?.span, err);
  }

  #fail(span: Span | undefined, err: unknown): void {
    if (span === undefined) return;
    span.recordException(err instanceof Error ? err : String(err));
    span.setStatus({ code: SpanStatusCode.ERROR, message: String(err) });
    span.end();
  }

  /** Forgets a proposal that will not apply here (lost leadership, overwritten, cancelled). */
  #drop(index: number, why: unknown): void {
    const p = this.#pending.get(index);
    if (p === undefined) return;
    this.#forget(index, p);
    if (p.commit !== undefined && !p.committed) this.#fail(p.commit, why);
  }

  #forget(index: number, p: Pending): void {
    this.#pending.delete(index);
    if (p.ctx !== undefined) this.#sampled.delete(index);
  }

  persisting(entries: readonly Entry[], sync: boolean): HookToken {
    const started = performance.now();
    const t = this.#tracing;
    if (t === undefined || entries.length === 0)
      return this.#metrics === undefined ? undefined : { started, sync, spans: [] };
    const spans: Span[] = [];
    let batch: Attributes | undefined; // made for the first traced entry only
    // Entries of a leader's term were all proposed through propose() here: a traced one is
    // pending (up to MAX_PENDING), any other carries no context: no need to read its bytes.
    const ownTerm = this.#role === "leader" ? this.#term : -1;
    for (const e of entries) {
      if (e.type !== "normal" || e.data.length === 0) continue;
      const p = this.#pending.get(e.index);
      let parent: Context | undefined;
      if (p !== undefined && p.term === e.term) parent = p.ctx;
      else if (e.term === ownTerm) continue;
      else {
        const carrier = traceContextOfCommand(e.data);
        if (sampledCarrier(carrier)) parent = t.extract(carrier);
      }
      if (parent === undefined) continue;
      batch ??= batchAttributes(entries, sync);
      const s = this.#start("juraft.append", parent, { ...this.#base(e.index), ...batch });
      if (s.isRecording()) spans.push(s);
    }
    return { started, sync, spans } satisfies PersistToken;
  }

  persisted(token: HookToken): void {
    if (token === undefined) return;
    const p = token as PersistToken;
    this.#metrics?.logWriteLatency.observe(
      { sync: String(p.sync) },
      (performance.now() - p.started) / 1000,
    );
    for (const s of p.spans) s.end();
  }

  sent(messages: readonly Message[]): void {
    if (this.#sampled.size === 0) return;
    for (const m of messages) {
      if (m.type !== "app") continue;
      for (const e of m.entries) {
        const p = this.#sampled.get(e.index);
        if (p?.sentTo === undefined || p.sentTo.has(m.to)) continue;
        p.sentTo.add(m.to);
        p.commit?.addEvent("juraft.replicate.sent", {
          [attr.peer]: m.to.toString(),
          [attr.batch]: m.entries.length,
        });
      }
    }
  }

  stepped(m: Message): void {
    if (m.type !== "appResp" || m.reject || this.#sampled.size === 0) return;
    for (const [index, p] of this.#sampled) {
      if (index > m.index || p.ackedBy === undefined || p.ackedBy.has(m.from)) continue;
      if (p.sentTo?.has(m.from) !== true) continue;
      p.ackedBy.add(m.from);
      p.commit?.addEvent("juraft.replicate.acked", {
        [attr.peer]: m.from.toString(),
        "juraft.raft.match_index": m.index,
      });
    }
  }

  committed(entries: readonly Entry[]): void {
    if (this.#pending.size === 0) return;
    const now = performance.now();
    for (const e of entries) {
      const p = this.#pending.get(e.index);
      if (p === undefined) continue;
      if (p.term !== e.term) {
        this.#drop(e.index, new Error(`entry ${e.index} was overwritten by term ${e.term}`));
        continue;
      }
      p.committed = true;
      this.#metrics?.commitLatency.observe((now - p.started) / 1000);
      p.commit?.end();
      this.#forget(e.index, p);
    }
  }

  applying(index: number, carrier: TraceCarrier): HookToken {
    const t = this.#tracing;
    const started = performance.now();
    if (t === undefined || !sampledCarrier(carrier))
      return this.#metrics === undefined ? undefined : { started, span: undefined };
    const span = this.#start("juraft.apply", t.extract(carrier), this.#base(index));
    return { started, span: span.isRecording() ? span : undefined } satisfies ApplyToken;
  }

  applied(token: HookToken, result: AppliedOutcome): void {
    if (token === undefined) return;
    const a = token as ApplyToken;
    this.#metrics?.applyLatency.observe((performance.now() - a.started) / 1000);
    this.#metrics?.applied.inc({ outcome: result.outcome });
    if (a.span !== undefined) {
      a.span.setAttributes(outcomeAttributes(result));
      a.span.end();
    }
  }

  membershipApplied(index: number, description: string): void {
    this.#metrics?.applied.inc({ outcome: "membership" });
    if (this.#tracing === undefined) return;
    this.#start("juraft.membership.apply", ROOT_CONTEXT, {
      ...this.#base(index),
      "juraft.membership.change": description,
    }).end();
  }

  roleChanged(role: Role, term: number, leader: bigint): void {
    const was = this.#role;
    this.#role = role;
    this.#term = term;
    if (leader !== this.#leader && leader !== 0n) this.#metrics?.leaderChanges.inc();
    this.#leader = leader;
    if (was === "leader" && role !== "leader") {
      const why = new Error(`leadership lost at term ${term}`);
      for (const index of [...this.#pending.keys()]) this.#drop(index, why);
    }
    if (this.#tracing === undefined) return;
    // Elections are events on one span per campaign: from (pre)candidate to leader or follower.
    const event = { [attr.role]: role, [attr.term]: term, "juraft.raft.leader": leader.toString() };
    // A campaign can win within one Ready (a single voter): leader without a candidate phase.
    const campaigning = role === "candidate" || role === "preCandidate";
    if (this.#election === undefined && (campaigning || (role === "leader" && was !== "leader"))) {
      this.#election = this.#start("juraft.election", ROOT_CONTEXT, this.#base());
    }
    const e = this.#election;
    if (e === undefined) return;
    e.addEvent(`became ${role}`, event);
    if (role === "leader" || role === "follower") {
      e.setAttribute("juraft.election.outcome", role);
      e.setAttribute(attr.term, term);
      e.end();
      this.#election = undefined;
    }
  }

  snapshot(
    kind: "taken" | "sent" | "installed",
    index: number,
    bytes: number,
    started: number,
  ): void {
    const ms = performance.now() - started;
    this.#metrics?.snapshotDuration.observe({ kind }, ms / 1000);
    if (bytes > 0) this.#metrics?.snapshotBytes.observe({ kind }, bytes);
    if (this.#tracing === undefined) return;
    const span = this.#tracing.tracer.startSpan(
      `juraft.snapshot.${kind}`,
      {
        attributes: { ...this.#base(index), [attr.bytes]: bytes },
        startTime: performance.timeOrigin + started,
      },
      ROOT_CONTEXT,
    );
    span.end();
  }
}
