/**
 * An OTLP/HTTP sink for benchmarks: accepts every export (any encoding) on 127.0.0.1:PORT and
 * counts requests and bytes, printed as JSON on SIGTERM/SIGINT. Usage: `tsx otlp-sink.ts PORT`.
 */
import { createServer } from "node:http";

const port = Number(process.argv[2] ?? "4318");
let requests = 0;
let bytes = 0;
const server = createServer((req, res) => {
  requests++;
  req.on("data", (c: Buffer) => {
    bytes += c.length;
  });
  req.on("end", () => {
    res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
  });
});
server.listen(port, "127.0.0.1");
const stop = (): void => {
  process.stdout.write(`${JSON.stringify({ requests, bytes })}\n`);
  server.close();
  server.closeAllConnections();
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
