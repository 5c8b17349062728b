import type { ClusterClientPool, RelaySessions } from "./relay.js";
import type { RaftRuntime } from "../cluster/runtime.js";
import type { Clock } from "../cluster/clock.js";
import type { NodeId, RaftLogger } from "../raft/index.js";
import type { WatchHub } from "../watch/index.js";
import { noopApiTelemetry, type ApiTelemetry } from "../telemetry/index.js";

/** Request limits (DESIGN.md §11: malformed or oversize requests never reach the log). */
export interface ApiLimits {
  /** Largest BSON op list accepted by Apply, in bytes. Default 16 MiB. */
  readonly maxTxnBytes: number;
  /** Most ops in one transaction. Default 10,000. */
  readonly maxOps: number;
}

/** Default request limits. */
export const defaultLimits: ApiLimits = { maxTxnBytes: 16 * 1024 * 1024, maxOps: 10_000 };

/** What the services of one node share. */
export interface ApiContext {
  readonly runtime: RaftRuntime;
  readonly hub: WatchHub;
  readonly clusterId: string;
  readonly self: { readonly id: NodeId; readonly name: string; readonly address: string };
  readonly limits: ApiLimits;
  readonly clients: ClusterClientPool;
  /** Sessions to the leader for relayed writes. */
  readonly relay: RelaySessions;
  readonly clock: Clock;
  readonly logger: RaftLogger;
  /** Returns a fresh random node id for a pre-registered member (never reused). */
  readonly newNodeId: () => NodeId;
  /** Spans and metrics of the API (DESIGN.md §10); default: none. */
  readonly telemetry?: ApiTelemetry;
}

/** The context's telemetry hooks (no-ops when it has none). */
export function telemetryOf(ctx: ApiContext): ApiTelemetry {
  return ctx.telemetry ?? noopApiTelemetry;
}
