import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import {
  CallErrorSchema,
  SessionResponseSchema,
  SessionResultSchema,
  type SessionCall,
  type SessionRequest,
  type SessionResponse,
  type SessionResult,
} from "../../proto/gen/juraft/store/v1/store_pb.js";
import { PushQueue } from "../util/index.js";
import { invalidArgument } from "../cluster/errors.js";
import { applyTxn } from "./apply.js";
import type { TraceScope } from "../telemetry/index.js";
import { telemetryOf, type ApiContext } from "./context.js";
import { reasonHeader, toConnectError } from "./errors.js";
import { getDocument } from "./reads.js";

/**
 * Serves `StoreService.Session`: each call runs on its own as soon as its message arrives, and
 * results finished in the same event-loop turn (a Ready's applies resolve many proposals at once)
 * leave in one message. The stream ends when the client ends its side and every call answered.
 */
export function serveSession(
  ctx: ApiContext,
  requests: AsyncIterable<SessionRequest>,
  hc: HandlerContext,
): AsyncIterable<SessionResponse> {
  const out = new PushQueue<SessionResponse>();
  let ready: SessionResult[] = [];
  let flushing = false;
  let inFlight = 0;
  let inputDone = false;

  const maybeEnd = (): void => {
    if (inputDone && inFlight === 0 && !flushing) out.end();
  };
  const flush = (): void => {
    flushing = false;
    const results = ready;
    ready = [];
    out.push(create(SessionResponseSchema, { results }));
    maybeEnd();
  };
  const answer = (r: SessionResult): void => {
    inFlight--;
    ready.push(r);
    if (flushing) return;
    flushing = true;
    setImmediate(flush);
  };
  const run = (call: SessionCall): void => {
    inFlight++;
    runCall(ctx, call, hc.signal).then(answer, (err: unknown) => {
      const ce = toConnectError(err);
      answer(
        create(SessionResultSchema, {
          id: call.id,
          result: {
            case: "error",
            value: create(CallErrorSchema, {
              code: ce.code,
              reason: ce.metadata.get(reasonHeader) ?? "",
              message: ce.rawMessage,
            }),
          },
        }),
      );
    });
  };

  void (async () => {
    try {
      for await (const req of requests) for (const call of req.calls) run(call);
      inputDone = true;
      maybeEnd();
    } catch (err) {
      // The client went away: nobody is left to read the answers.
      out.fail(err);
    }
  })();
  return out;
}

function runCall(ctx: ApiContext, call: SessionCall, signal: AbortSignal): Promise<SessionResult> {
  // Named as the unary RPC would be, so a trace reads the same whichever path the call took;
  // each call carries its own trace context (the stream's headers name only its first caller).
  const method = `juraft.store.v1.StoreService/${call.call.case === "get" ? "Get" : "Apply"}`;
  return telemetryOf(ctx).serve(method, call.traceContext, call.relayed, (scope) =>
    runIn(ctx, call, scope, signal),
  );
}

async function runIn(
  ctx: ApiContext,
  call: SessionCall,
  scope: TraceScope,
  signal: AbortSignal,
): Promise<SessionResult> {
  switch (call.call.case) {
    case "apply": {
      const res = await applyTxn(ctx, call.call.value, {
        relayed: call.relayed,
        traceContext: call.traceContext,
        scope,
        signal,
      });
      return create(SessionResultSchema, { id: call.id, result: { case: "apply", value: res } });
    }
    case "get": {
      const res = await getDocument(ctx, call.call.value, signal, scope);
      return create(SessionResultSchema, { id: call.id, result: { case: "get", value: res } });
    }
    case undefined:
      throw invalidArgument("EMPTY_CALL", `session call ${call.id}: neither apply nor get`);
  }
}
