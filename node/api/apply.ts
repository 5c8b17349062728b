import { create } from "@bufbuild/protobuf";
import { randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import {
  ApplyRequestSchema,
  ApplyResponseSchema,
  Outcome,
  type ApplyRequest,
  type ApplyResponse,
} from "../../proto/gen/juraft/store/v1/store_pb.js";
import { ClusterError, invalidArgument, unavailable } from "../cluster/errors.js";
import { parseOps, parseOpsBson } from "../store/index.js";
import type { ApplyOutcome } from "../cluster/runtime.js";
import { encodeWrapped, decodeWrapped } from "./codec.js";
import type { TraceScope } from "../telemetry/index.js";
import { telemetryOf, type ApiContext } from "./context.js";

/**
 * Validates a transaction before anything reaches the log (DESIGN.md §3 step 2): size, BSON,
 * every op well formed (the store's own parser, so the rules are the ones apply uses).
 */
export function validateApply(ctx: ApiContext, req: ApplyRequest, scope?: TraceScope): void {
  if (req.ops.length > ctx.limits.maxTxnBytes) {
    throw new ClusterError(
      Code.ResourceExhausted,
      "TXN_TOO_LARGE",
      `apply transaction: ops are ${req.ops.length} bytes, more than the limit of ${ctx.limits.maxTxnBytes}`,
    );
  }
  if (req.txnId.length > 1024)
    throw invalidArgument("BAD_TXN_ID", "apply transaction: txn_id is longer than 1024 characters");
  // Read straight from the bytes when the fast path takes them; else decoded then parsed, which
  // reports any error (the same answer either way: store/txn-decode.ts).
  const parsed = parseOpsBson(req.ops) ?? parseOps(decodeWrapped(req.ops, "ops", "ops"));
  telemetryOf(ctx).annotate(scope, () => ({
    "juraft.txn.op_count": parsed.length,
    "juraft.txn.collections": [...new Set(parsed.map((o) => o.c))],
    "juraft.txn.bytes": req.ops.length,
  }));
  if (parsed.length === 0)
    throw invalidArgument("EMPTY_TXN", "apply transaction: the op list is empty");
  if (parsed.length > ctx.limits.maxOps) {
    throw invalidArgument(
      "TOO_MANY_OPS",
      `apply transaction: ${parsed.length} ops, more than the limit of ${ctx.limits.maxOps}`,
    );
  }
}

/**
 * Applies a transaction: proposed here when this node leads, else relayed to the leader (one
 * hop: a relayed request that reaches a non-leader fails with Unavailable and the client retries).
 */
export async function applyTxn(
  ctx: ApiContext,
  req: ApplyRequest,
  opts: {
    relayed: boolean;
    /** The caller's W3C context, carried onward as is when this node does not trace. */
    traceContext: Record<string, string>;
    /** The call's trace scope (the server interceptor's or the session's). */
    scope?: TraceScope;
    signal: AbortSignal;
  },
): Promise<ApplyResponse> {
  const scope = opts.scope;
  validateApply(ctx, req, scope);
  const txnId = req.txnId === "" ? randomUUID() : req.txnId;
  const tel = telemetryOf(ctx);
  tel.annotate(scope, () => ({ "juraft.txn.id": txnId, "juraft.node": ctx.self.name }));
  const st = ctx.runtime.status();
  if (st.role === "leader") {
    const result = await ctx.runtime.propose(
      {
        txnId,
        ops: req.ops,
        traceContext: tel.entryContext(scope, opts.traceContext),
        timeMs: ctx.clock.now(),
      },
      opts.signal,
    );
    return toApplyResponse(result);
  }
  if (opts.relayed) {
    throw unavailable(
      "NOT_LEADER",
      `apply relayed transaction at node ${ctx.self.id}: not the leader (leader ${st.lead}, term ${st.term})`,
    );
  }
  const leader = ctx.runtime.members.get(st.lead);
  if (st.lead === 0n || leader === undefined) {
    throw unavailable(
      "NO_LEADER",
      `apply transaction at node ${ctx.self.id}: no leader known at term ${st.term}; retry`,
    );
  }
  return tel.relay(scope, leader.name, (relay) =>
    ctx.relay.to(leader.address).apply(create(ApplyRequestSchema, { txnId, ops: req.ops }), {
      relayed: true,
      traceContext: tel.carrier(relay, opts.traceContext),
      signal: opts.signal,
      timeoutMs: RELAY_TIMEOUT_MS,
    }),
  );
}

/** A relayed call's own deadline; the client's usually ends it sooner. */
const RELAY_TIMEOUT_MS = 30_000;

/** Maps the store's outcome to the API response; a rejected transaction becomes its error. */
export function toApplyResponse(r: ApplyOutcome): ApplyResponse {
  switch (r.outcome) {
    case "imported":
      throw new Error(`apply: entry ${r.index} is an import, not a transaction`);
    case "applied":
      return create(ApplyResponseSchema, {
        outcome: Outcome.APPLIED,
        index: BigInt(r.index),
        revnos: r.revnos.map((v) => BigInt(v ?? 0)),
        txnId: r.txnId ?? "",
        duplicate: r.duplicate,
      });
    case "aborted":
      return create(ApplyResponseSchema, {
        outcome: Outcome.ABORTED,
        index: BigInt(r.index),
        aborted: {
          opIndex: r.op,
          reason: r.reason,
          assert: r.assert === null ? new Uint8Array(0) : encodeWrapped("assert", r.assert),
        },
        txnId: r.txnId ?? "",
        duplicate: r.duplicate,
      });
    case "rejected":
      throw r.error;
  }
}
