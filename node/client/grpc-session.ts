import type * as http2 from "node:http2";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Http2SessionManager } from "@connectrpc/connect-node";
import {
  SessionRequestSchema,
  SessionResponseSchema,
  StoreService,
  type SessionRequest,
  type SessionResponse,
} from "../../proto/gen/juraft/store/v1/store_pb.js";
import { FrameReader, frameOf, grpcContentType, reasonHeader } from "../util/index.js";

/** The HTTP/2 path of `StoreService.Session`. */
export const sessionPath = `/${StoreService.typeName}/${StoreService.method.session.name}`;

/** What a session stream tells its owner. */
export interface SessionEvents {
  /** A response arrived. */
  onResponse(r: SessionResponse): void;
  /** The stream ended (once), with the error its calls in flight fail with. */
  onEnd(err: ConnectError): void;
}

/** One open `StoreService.Session` stream. */
export interface SessionStream {
  /** Sends a request (dropped once the stream ended). */
  send(req: SessionRequest): void;
  /** Ends this side; the node answers what is in flight, then ends its side. */
  end(): void;
  /** Cancels the stream. */
  abort(): void;
}

/** Opens Session streams to one node. */
export type SessionOpener = (events: SessionEvents) => SessionStream;

/** Largest response accepted (a batch of results of documents up to 16 MiB each). */
const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

/** Where session streams come from: an HTTP/2 connection to one node. */
export interface GrpcStreams {
  /** Opens a stream to `path` with gRPC's request headers (and any credentials). */
  request(path: string): Promise<http2.ClientHttp2Stream>;
  /** Tells the connection's keep-alive that `stream` received bytes. */
  read(stream: http2.ClientHttp2Stream): void;
}

/** The gRPC streams of a Connect session manager, with `headers` (e.g. authorization) added. */
export function managerStreams(
  sessions: Http2SessionManager,
  headers: Readonly<Record<string, string>>,
): GrpcStreams {
  return {
    request: (path) =>
      sessions.request(
        "POST",
        path,
        { ...headers, "content-type": grpcContentType, te: "trailers" },
        {},
      ),
    read: (stream) => {
      sessions.notifyResponseByteRead(stream);
    },
  };
}

/**
 * Session streams in the gRPC protocol written straight onto HTTP/2 streams (the client's
 * connection to the node): a batch of calls costs one write, a batch of results one data event,
 * without Connect's per-message async-iterator pipeline. Any node serving StoreService in gRPC
 * understands it (juraft's own reader, node/api/session-stream.ts, or Connect's). Writes are
 * not held back by HTTP/2 flow control: the callers bound what is in flight.
 */
export function grpcSessionOpener(streams: GrpcStreams, name: string): SessionOpener {
  return (events) => {
    let h2: http2.ClientHttp2Stream | undefined;
    let waiting: Uint8Array[] = [];
    let ended = false;
    let ending = false;
    const frames = new FrameReader(MAX_RESPONSE_BYTES, `session to ${name}`);
    const finish = (err: ConnectError): void => {
      if (ended) return;
      ended = true;
      waiting = [];
      events.onEnd(err);
    };
    const attach = (s: http2.ClientHttp2Stream): void => {
      h2 = s;
      let status: string | undefined;
      let message = "";
      let reason = "";
      let error: Error | undefined;
      const statusOf = (h: http2.IncomingHttpHeaders): void => {
        const v = h["grpc-status"];
        if (typeof v !== "string") return;
        status = v;
        message = decodeURIComponent(String(h["grpc-message"] ?? ""));
        const r = h[reasonHeader];
        reason = typeof r === "string" ? r : "";
      };
      s.on("response", statusOf);
      s.on("trailers", statusOf);
      s.on("data", (chunk: Buffer) => {
        streams.read(s);
        let responses: SessionResponse[];
        try {
          responses = frames.push(chunk).map((m) => fromBinary(SessionResponseSchema, m));
        } catch (err) {
          // A node that sends what no juraft node sends: end the stream, fail its calls.
          finish(ConnectError.from(err, Code.Internal));
          s.close();
          return;
        }
        // Outside the try: a failure while delivering is a bug here, not the node's fault.
        for (const r of responses) events.onResponse(r);
      });
      // Recorded here and reported when the stream closes, as its end.
      s.on("error", (err: Error) => {
        error = err;
      });
      // The node's side ended (an error answer may come before this side ends): the call is
      // over, so close this side too; 'close' then reports it.
      s.once("end", () => {
        s.close();
      });
      s.once("close", () => {
        if (status === "0") {
          finish(new ConnectError(`session to ${name} ended by the node`, Code.Unavailable));
        } else if (status !== undefined) {
          finish(
            new ConnectError(
              message,
              codeOf(Number(status)),
              reason === "" ? undefined : { [reasonHeader]: reason },
            ),
          );
        } else {
          const why = error?.message ?? `reset (HTTP/2 code ${s.rstCode})`;
          finish(new ConnectError(`session to ${name}: ${why}`, Code.Unavailable));
        }
      });
      for (const f of waiting) s.write(f);
      waiting = [];
      if (ending) s.end();
    };
    streams.request(sessionPath).then(
      (s) => {
        if (ended) s.close();
        else attach(s);
      },
      (err: unknown) => {
        finish(ConnectError.from(err, Code.Unavailable));
      },
    );
    return {
      send(req) {
        if (ended || ending) return;
        const f = frameOf(toBinary(SessionRequestSchema, req));
        if (h2 === undefined) waiting.push(f);
        else h2.write(f);
      },
      end() {
        ending = true;
        h2?.end();
      },
      abort() {
        finish(new ConnectError(`session to ${name} closed`, Code.Canceled));
        h2?.close();
      },
    };
  };
}

const codes = new Map<number, Code>();
for (const c of Object.values(Code)) if (typeof c === "number") codes.set(c, c);

/** The Connect code numbered `n` (a node newer than this client may send one it lacks). */
export function codeOf(n: number): Code {
  return codes.get(n) ?? Code.Unknown;
}
