/**
 * Fuzzing harness: a node under test, raw HTTP/2 posts in the Connect and gRPC protocols (so that
 * bytes no client library would send reach the server), and the checks every case shares.
 */
import { createHash } from "node:crypto";
import * as http2 from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import type { JuraftClient } from "../../node/client/index.js";
import type { JuraftNode } from "../../node/server/juraft-node.js";

/** Runs per property: small in `npm test`, JURAFT_FUZZ_RUNS=N for a long run. */
export const RUNS = Number(process.env.JURAFT_FUZZ_RUNS ?? "60");
/** A property's jest timeout: generous, and growing with the runs of a long run. */
export const TIMEOUT_MS = Math.max(60_000, RUNS * 400);
/** The fast-check seed (printed on failure by fast-check; set JURAFT_FUZZ_SEED to replay). */
export const SEED =
  process.env.JURAFT_FUZZ_SEED === undefined ? undefined : Number(process.env.JURAFT_FUZZ_SEED);

/** Codes a refusal of bad input may carry. Internal and Unknown are bugs. */
export const inputCodes = new Set([
  "invalid_argument",
  "resource_exhausted",
  "failed_precondition",
  "out_of_range",
  "not_found",
  "unimplemented",
  "permission_denied",
  "unauthenticated",
  "already_exists",
]);

/** The wire protocol of a raw call. */
export type Protocol = "connect-unary" | "connect-json" | "connect-stream" | "grpc";

/** What a raw call answered: "ok", or the error code's name (Connect's snake_case). */
export interface RawAnswer {
  readonly code: string;
  readonly message: string;
}

const grpcCodes = Object.entries(Code)
  .filter(([, v]) => typeof v === "number")
  .map(
    ([k, v]) =>
      [
        v as number,
        k.replace(/[A-Z]/g, (c, i: number) => (i === 0 ? "" : "_") + c.toLowerCase()),
      ] as const,
  );
const grpcCodeName = new Map<number, string>([[0, "ok"], ...grpcCodes]);

function envelope(flags: number, body: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(flags, 0);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** Reads the Connect end-of-stream message (flag 0x02) of a streaming answer. */
function endOfStream(buf: Buffer): RawAnswer {
  let off = 0;
  while (off + 5 <= buf.length) {
    const flags = buf.readUInt8(off);
    const len = buf.readUInt32BE(off + 1);
    const body = buf.subarray(off + 5, off + 5 + len);
    off += 5 + len;
    if ((flags & 0x02) !== 0) {
      const j = JSON.parse(body.toString("utf8")) as { error?: { code: string; message?: string } };
      return j.error === undefined
        ? { code: "ok", message: "" }
        : { code: j.error.code, message: j.error.message ?? "" };
    }
  }
  return { code: "no_end_of_stream", message: buf.subarray(0, 200).toString("utf8") };
}

/**
 * Posts `body` to `/<service>/<method>` of `address` over h2c in `protocol`, wrapping it in an
 * envelope for streams and gRPC (unless `raw`: then the bytes go as they are). Bounded by 10 s.
 */
export function rawCall(
  session: http2.ClientHttp2Session,
  path: string,
  protocol: Protocol,
  body: Uint8Array,
  raw = false,
): Promise<RawAnswer> {
  const contentType = {
    "connect-unary": "application/proto",
    "connect-json": "application/json",
    "connect-stream": "application/connect+proto",
    grpc: "application/grpc+proto",
  }[protocol];
  const unary = protocol === "connect-unary" || protocol === "connect-json";
  const payload = unary || raw ? Buffer.from(body) : envelope(0, body);
  return new Promise((resolve, reject) => {
    const req = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": contentType,
      ...(protocol === "grpc" ? { te: "trailers" } : { "connect-protocol-version": "1" }),
    });
    req.setTimeout(10_000, () => {
      req.close(http2.constants.NGHTTP2_CANCEL);
      reject(new Error(`raw call ${path}: no answer within 10 s`));
    });
    let status = 0;
    let headers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on("response", (h) => {
      headers = h;
      status = Number(h[":status"]);
    });
    req.on("trailers", (t: http2.IncomingHttpHeaders) => {
      headers = { ...headers, ...t };
    });
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("error", reject);
    req.on("end", () => {
      const buf = Buffer.concat(chunks);
      if (protocol === "grpc") {
        // Without a grpc-status, the HTTP status maps as the gRPC spec's table says (404: 12).
        const s = Number(headers["grpc-status"] ?? (status === 404 ? 12 : -1));
        resolve({
          code: grpcCodeName.get(s) ?? `grpc_status_${String(headers["grpc-status"])}`,
          message: decodeURIComponent(String(headers["grpc-message"] ?? "")),
        });
      } else if (protocol === "connect-stream" && status === 200) {
        resolve(endOfStream(buf));
      } else if (status === 200) {
        resolve({ code: "ok", message: "" });
      } else {
        try {
          const j = JSON.parse(buf.toString("utf8")) as { code: string; message?: string };
          resolve({ code: j.code, message: j.message ?? "" });
        } catch {
          // The Connect protocol maps an unknown procedure to HTTP 404 with no body: Unimplemented.
          if (status === 404) resolve({ code: "unimplemented", message: "HTTP 404" });
          else resolve({ code: `http_${status}`, message: buf.subarray(0, 200).toString("utf8") });
        }
      }
    });
    req.end(payload);
  });
}

/** Opens an h2c session to `address` (closed by the caller). */
export function h2c(address: string): http2.ClientHttp2Session {
  const s = http2.connect(`http://${address}`);
  s.on("error", () => {
    // Reported through the requests that fail with it.
  });
  return s;
}

/** The node's log extent: a rejected request never reaches the log, so never moves it. */
export function logMark(n: JuraftNode): string {
  const st = n.runtime.status();
  return `last ${st.lastIndex} commit ${st.commit} applied ${n.runtime.applied} term ${st.term}`;
}

/** SHA-256 of the node's Dump stream: its whole applied state (documents and txn table). */
export async function stateDigest(client: JuraftClient): Promise<string> {
  const h = createHash("sha256");
  for await (const r of client.store().dump({})) h.update(r.data);
  return h.digest("hex");
}

/**
 * True when a raw answer is a coded refusal of bad input. connect-es answers a request whose
 * protobuf bytes do not parse with Internal "parse binary: ..." (as grpc-go does; malformed JSON
 * gets InvalidArgument) before any juraft code runs: accepted as such, and only that Internal.
 */
export function isInputRefusal(a: RawAnswer): boolean {
  return inputCodes.has(a.code) || (a.code === "internal" && a.message.startsWith("parse binary:"));
}

/** Asserts that `err` is a coded refusal of bad input (never Internal/Unknown: those are bugs). */
export function expectInputError(err: unknown, what: string): ConnectError {
  const ce = ConnectError.from(err);
  const name = Code[ce.code].replace(
    /[A-Z]/g,
    (c, i: number) => (i === 0 ? "" : "_") + c.toLowerCase(),
  );
  if (!inputCodes.has(name))
    throw new Error(`${what}: answered ${name} (${ce.rawMessage}), not a coded input error`, {
      cause: err,
    });
  return ce;
}
