import { setMaxListeners } from "node:events";
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
 * The server side of one `StoreService.Session` stream, whatever carries its messages (Connect,
 * or raw gRPC frames: node/api/session-stream.ts): each call runs on its own as soon as its
 * message arrives, and results finished in the same event-loop turn (a Ready's applies resolve
 * many proposals at once) leave in one response. `end` is called once the input ended and every
 * call was answered.
 */
export class SessionServer {
  readonly #ctx: ApiContext;
  readonly #signal: AbortSignal;
  readonly #emit: (r: SessionResponse) => void;
  readonly #end: () => void;
  #ready: SessionResult[] = [];
  #flushing = false;
  #inFlight = 0;
  #inputDone = false;

  /** A session answering through `emit`, ended with `end`; `signal` cancels its calls. */
  constructor(
    ctx: ApiContext,
    signal: AbortSignal,
    emit: (r: SessionResponse) => void,
    end: () => void,
  ) {
    this.#ctx = ctx;
    this.#signal = signal;
    // Every call in flight on the session waits on this signal (its proposal or read waiter):
    // hundreds at once are normal, not the listener leak Node warns about past 10.
    setMaxListeners(0, signal);
    this.#emit = emit;
    this.#end = end;
  }

  /** Runs the calls of a request. */
  take(req: SessionRequest): void {
    for (const call of req.calls) this.#run(call);
  }

  /** The client ended its side: end once every call is answered. */
  inputEnded(): void {
    this.#inputDone = true;
    this.#maybeEnd();
  }

  #maybeEnd(): void {
    if (this.#inputDone && this.#inFlight === 0 && !this.#flushing) this.#end();
  }

  #flush(): void {
    this.#flushing = false;
    const results = this.#ready;
    this.#ready = [];
    this.#emit(create(SessionResponseSchema, { results }));
    this.#maybeEnd();
  }

  #answer(r: SessionResult): void {
    this.#inFlight--;
    this.#ready.push(r);
    if (this.#flushing) return;
    this.#flushing = true;
    setImmediate(() => {
      this.#flush();
    });
  }

  #run(call: SessionCall): void {
    this.#inFlight++;
    runCall(this.#ctx, call, this.#signal).then(
      (r) => {
        this.#answer(r);
      },
      (err: unknown) => {
        const ce = toConnectError(err);
        this.#answer(
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
      },
    );
  }
}

/** Serves `StoreService.Session` through Connect (what clients that speak Connect reach). */
export function serveSession(
  ctx: ApiContext,
  requests: AsyncIterable<SessionRequest>,
  hc: HandlerContext,
): AsyncIterable<SessionResponse> {
  const out = new PushQueue<SessionResponse>();
  const server = new SessionServer(
    ctx,
    hc.signal,
    (r) => {
      out.push(r);
    },
    () => {
      out.end();
    },
  );
  void (async () => {
    try {
      for await (const req of requests) server.take(req);
      server.inputEnded();
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
