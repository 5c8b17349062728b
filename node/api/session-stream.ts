import type * as http2 from "node:http2";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  SessionRequestSchema,
  SessionResponseSchema,
} from "../../proto/gen/juraft/store/v1/store_pb.js";
import { invalidArgument } from "../cluster/errors.js";
import { sessionPath } from "../client/index.js";
import { FrameReader, frameOf } from "../util/index.js";
import { checkBearer, type TokenSet } from "./auth.js";
import type { ApiContext } from "./context.js";
import { endOk, endWithError, isGrpcCall, startAnswer } from "./grpc-answer.js";
import { SessionServer } from "./session.js";

/** Whether a request is `StoreService.Session` in the gRPC protocol (what juraft clients send). */
export function isSessionStream(req: http2.Http2ServerRequest): boolean {
  return isGrpcCall(req, sessionPath);
}

/**
 * Serves `StoreService.Session` on the HTTP/2 stream itself, in the gRPC protocol: requests are
 * read from data events and results written as frames, the calls themselves run exactly as on
 * the Connect path ({@link SessionServer}). With `tokens`, the caller's bearer token is checked
 * first, as the Connect interceptor does (node/api/auth.ts).
 */
export function serveSessionStream(
  ctx: ApiContext,
  o: { readonly maxBytes: number; readonly tokens: TokenSet | undefined },
  req: http2.Http2ServerRequest,
  res: http2.Http2ServerResponse,
): void {
  const what = `call ${sessionPath.slice(1)}`;
  if (o.tokens !== undefined) {
    try {
      checkBearer(o.tokens, req.headers.authorization, what);
    } catch (err) {
      endWithError(res, err);
      req.resume();
      return;
    }
  }
  const cancel = new AbortController();
  let done = false;
  const frames = new FrameReader(o.maxBytes, "StoreService.Session");
  startAnswer(res);
  const server = new SessionServer(
    ctx,
    cancel.signal,
    (r) => {
      if (!done) res.write(frameOf(toBinary(SessionResponseSchema, r)));
    },
    () => {
      if (done) return;
      done = true;
      endOk(res);
    },
  );
  const fail = (err: unknown): void => {
    if (done) return;
    done = true;
    req.off("data", onData);
    endWithError(res, err);
    req.resume();
  };
  const onData = (chunk: Buffer): void => {
    try {
      for (const m of frames.push(chunk)) server.take(decodeRequest(m));
    } catch (err) {
      fail(err);
    }
  };
  req.on("data", onData);
  req.once("end", () => {
    if (frames.pending === 0) server.inputEnded();
    else
      fail(
        invalidArgument(
          "TRUNCATED_MESSAGE",
          `read ${what}: the stream ended inside a message (${frames.pending} bytes of it)`,
        ),
      );
  });
  // The client went away: its calls still complete (writes are proposed), nobody reads answers.
  res.once("close", () => {
    done = true;
    cancel.abort(new Error(`${what}: the client went away`));
  });
}

function decodeRequest(m: Uint8Array): ReturnType<typeof fromBinary<typeof SessionRequestSchema>> {
  try {
    return fromBinary(SessionRequestSchema, m);
  } catch (err) {
    // protobuf-es throws plain Errors on malformed input: the caller's mistake, coded as such.
    throw invalidArgument(
      "BAD_SESSION_REQUEST",
      `decode StoreService.Session request: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}
