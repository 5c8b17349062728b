import type { Attributes, Context, Span } from "@opentelemetry/api";
import type { ContextValues, Interceptor } from "@connectrpc/connect";
import type { Entry, Message, Role } from "../raft/index.js";
import type { TraceCarrier } from "./tracing.js";

/** What applying an entry produced, as telemetry reads it (the store's outcome, structurally). */
export interface AppliedOutcome {
  readonly outcome: string;
  readonly reason?: string;
  readonly op?: number;
  readonly assert?: unknown;
  readonly duplicate?: boolean;
}

/** An opaque handle from a `*ing` hook, handed back to its `*ed` twin. */
export type HookToken = object | undefined;

/**
 * What the node runtime reports (DESIGN.md §10). A narrow hook so node/cluster stays free of
 * OpenTelemetry; {@link noopRaftTelemetry} does nothing and allocates nothing.
 */
export interface RaftTelemetry {
  /** Returns the trace context to store in a proposed entry (the propose span's, when traced). */
  propose(txnId: string, carrier: TraceCarrier): TraceCarrier;
  /** The proposal begun by the last propose() is at (index, term); `done` settles on apply. */
  proposed(index: number, term: number, done: Promise<AppliedOutcome>): void;
  /** The proposal begun by the last propose() was refused. */
  proposeFailed(err: unknown): void;
  /** A Ready's log write starts (`entries` may be empty: only state changed). */
  persisting(entries: readonly Entry[], sync: boolean): HookToken;
  persisted(token: HookToken): void;
  /** Messages were handed to the transport. */
  sent(messages: readonly Message[]): void;
  /** A message from a peer was stepped. */
  stepped(m: Message): void;
  /** Entries became committed (reported before they are applied). */
  committed(entries: readonly Entry[]): void;
  /** Entry `index` starts applying; `carrier` is the trace context it carries. */
  applying(index: number, carrier: TraceCarrier): HookToken;
  applied(token: HookToken, result: AppliedOutcome): void;
  /** A membership change was applied (conf change entries carry no trace context). */
  membershipApplied(index: number, description: string): void;
  /** The role, leader or term changed. */
  roleChanged(role: Role, term: number, leader: bigint): void;
  /** A monotonic clock in milliseconds, for the `started` of {@link snapshot}. */
  now(): number;
  /** A snapshot was taken, sent or installed: `started` is from {@link now}. */
  snapshot(
    kind: "taken" | "sent" | "installed",
    index: number,
    bytes: number,
    started: number,
  ): void;
}

/**
 * The trace a call belongs to, handed explicitly from hook to hook: nodes keep no ambient
 * context (AsyncLocalStorage's promise hooks would tax every await of the process, traced or
 * not). `undefined`: the node does not trace. An unsampled call records nothing; its carrier
 * tells the next hop not to sample either (W3C trace-flags 00), so parent-based samplers agree.
 */
export type TraceScope =
  | { readonly sampled: true; readonly span: Span; readonly ctx: Context }
  | { readonly sampled: false; carrier(): TraceCarrier }
  | undefined;

/** What the API layer reports. {@link noopApiTelemetry} does nothing. */
export interface ApiTelemetry {
  /** Server interceptors (extract W3C context, one SERVER span per call, sampled or not). */
  readonly interceptors: readonly Interceptor[];
  /** The scope the server interceptor gave an RPC (read from its `HandlerContext.values`). */
  scopeOf(values: ContextValues): TraceScope;
  /** The trace context to carry onward from `scope`: `fallback` when this node does not trace. */
  carrier(scope: TraceScope, fallback: TraceCarrier): TraceCarrier;
  /**
   * The trace context to store in a proposed entry: the scope's span's when sampled, none when
   * not (followers then skip the entry), `fallback` when this node does not trace.
   */
  entryContext(scope: TraceScope, fallback: TraceCarrier): TraceCarrier;
  /** Sets attributes on the scope's span; `attrs` is called only when the call is sampled. */
  annotate(scope: TraceScope, attrs: () => Attributes): void;
  /** Runs `fn` in a child span of `scope` (when sampled). */
  span<T>(
    scope: TraceScope,
    name: string,
    attrs: Attributes,
    fn: (scope: TraceScope) => Promise<T>,
  ): Promise<T>;
  /** Runs the relay call `fn` in a CLIENT span (when sampled), counting it and timing it. */
  relay<T>(scope: TraceScope, leader: string, fn: (scope: TraceScope) => Promise<T>): Promise<T>;
  /**
   * Runs one call of a multiplexed session (`method`, e.g. `StoreService/Apply`; `relayed` when
   * a member relays it) in a SERVER span whose parent is the call's own trace context, as the
   * interceptor does per RPC.
   */
  serve<T>(
    method: string,
    carrier: TraceCarrier,
    relayed: boolean,
    fn: (scope: TraceScope) => Promise<T>,
  ): Promise<T>;
  /** A watch stream of `scope` delivered an event at `index`. */
  watchDelivered(scope: TraceScope, index: number, collection: string): void;
}

const nothing = (): undefined => undefined;

/** The runtime hooks when telemetry is off. */
export const noopRaftTelemetry: RaftTelemetry = {
  propose: (_txnId, carrier) => carrier,
  proposed: nothing,
  proposeFailed: nothing,
  persisting: nothing,
  persisted: nothing,
  sent: nothing,
  stepped: nothing,
  committed: nothing,
  applying: nothing,
  applied: nothing,
  membershipApplied: nothing,
  roleChanged: nothing,
  now: () => 0,
  snapshot: nothing,
};

/** The API hooks when telemetry is off. */
export const noopApiTelemetry: ApiTelemetry = {
  interceptors: [],
  scopeOf: nothing,
  carrier: (_scope, fallback) => fallback,
  entryContext: (_scope, fallback) => fallback,
  annotate: nothing,
  span: (_scope, _name, _attrs, fn) => fn(undefined),
  relay: (_scope, _leader, fn) => fn(undefined),
  serve: (_method, _carrier, _relayed, fn) => fn(undefined),
  watchDelivered: nothing,
};
