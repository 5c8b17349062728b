#!/usr/bin/env node
// `juraft-probe HOST:PORT CA CERT KEY`: the readiness and liveness check of a TLS pod. Kubernetes'
// gRPC probe speaks only cleartext, so this asks the node's grpc.health.v1 Health/Check over TLS
// (gRPC over HTTP/2: https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md) and exits 0
// when the answer is SERVING, 1 otherwise, saying why on stderr. Plain JavaScript on node:http2
// only: no TypeScript loader and no dependencies, so a probe costs a bare Node.js start.
import { Buffer } from "node:buffer";
import { readFileSync } from "node:fs";
import { connect } from "node:http2";
import process from "node:process";
import { setTimeout } from "node:timers";

const TIMEOUT_MS = 4000;
/** grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING */
const SERVING = 1;

const [address, ca, cert, key] = process.argv.slice(2);
if (address === undefined || ca === undefined || cert === undefined || key === undefined) {
  process.stderr.write("usage: juraft-probe HOST:PORT CA CERT KEY\n");
  process.exit(2);
}

/**
 * @param {string} why
 * @returns {never}
 */
function fail(why) {
  process.stderr.write(`juraft-probe ${address}: ${why}\n`);
  process.exit(1);
}

/** @param {string} path */
function read(path) {
  try {
    return readFileSync(path);
  } catch (err) {
    return fail(`read ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const session = connect(`https://${address}`, {
  ca: read(ca),
  cert: read(cert),
  key: read(key),
  // The pod dials itself on loopback: the chain is verified against ca.crt, the name is not.
  checkServerIdentity: () => undefined,
});
session.on("error", (err) => {
  fail(`connect: ${err.message}`);
});
setTimeout(() => {
  fail(`no answer within ${TIMEOUT_MS} ms`);
}, TIMEOUT_MS).unref();

const req = session.request({
  ":method": "POST",
  ":path": "/grpc.health.v1.Health/Check",
  "content-type": "application/grpc",
  te: "trailers",
});
/** @type {Buffer[]} */
const chunks = [];
/** @type {string | undefined} */
let grpcStatus;
req.on("response", (headers) => {
  // A trailers-only answer (an error) carries grpc-status in the headers.
  const s = headers["grpc-status"];
  if (typeof s === "string") grpcStatus = s;
});
req.on("trailers", (trailers) => {
  const s = trailers["grpc-status"];
  if (typeof s === "string") grpcStatus = s;
});
req.on("data", (/** @type {Buffer} */ chunk) => {
  chunks.push(chunk);
});
req.on("error", (err) => {
  fail(`call: ${err.message}`);
});
req.on("end", () => {
  session.close();
  if (grpcStatus !== "0") fail(`grpc-status ${String(grpcStatus)}`);
  // One length-prefixed message: flag byte, 4-byte length, then HealthCheckResponse, whose only
  // field is `status = 1` (varint): absent means 0, UNKNOWN.
  const body = Buffer.concat(chunks);
  const message = body.subarray(5, 5 + (body.length >= 5 ? body.readUInt32BE(1) : 0));
  const status = message[0] === 0x08 ? (message[1] ?? 0) : 0;
  if (status !== SERVING) fail(`health status ${status}, not SERVING`);
  process.exit(0);
});
// An uncompressed, empty HealthCheckRequest (service "": the whole node).
req.end(Buffer.from([0, 0, 0, 0, 0]));
