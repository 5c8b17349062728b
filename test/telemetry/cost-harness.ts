/**
 * The tracing cost harness (README, telemetry "Cost"): three in-process nodes and one client,
 * `WARM` warm-up inserts then `N` measured ones from `CONC` concurrent callers to the leader;
 * prints the process CPU per transaction. MODE is `off` or a parent-based sampling ratio (spans
 * go to an in-memory exporter). With HANDSHAKE_DIR set it writes `warm`/`done` there and waits
 * for `go`/`go2`, so a script can zero and dump callgrind's counters around the measured part.
 * Usage: `node --import tsx test/telemetry/cost-harness.ts MODE WARM N [CONC]`.
 */
import { existsSync, writeFileSync } from "node:fs";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { JuraftClient } from "../../node/client/index.js";
import { parseEndpoints } from "../../node/cluster/discovery.js";
import type { JuraftNode } from "../../node/server/juraft-node.js";
import { startNodeTelemetry, type NodeTelemetry } from "../../node/telemetry/index.js";
import { startNode, tempDir, until } from "../server/helpers.js";

const [mode = "off", warmArg = "2000", nArg = "5000", concArg = "64"] = process.argv.slice(2);
const warm = Number(warmArg);
const n = Number(nArg);
const conc = Number(concArg);
const tickMs = Number(process.env["TICK_MS"] ?? "100");
const exporter = new InMemorySpanExporter();
const dir = await tempDir("juraft-cost-");
const nodes: JuraftNode[] = [];
const tels: NodeTelemetry[] = [];

async function start(name: string, join?: string): Promise<JuraftNode> {
  const telemetry =
    mode === "off"
      ? undefined
      : await startNodeTelemetry({
          node: name,
          tracing: {
            exporter: "memory",
            protocol: "http/protobuf",
            ratio: Number(mode),
            parentBased: true,
            serviceName: "cost",
          },
          exporter,
        });
  if (telemetry !== undefined) tels.push(telemetry);
  const node = await startNode(dir.dir, name, {
    tickMs,
    ...(telemetry !== undefined ? { telemetry } : {}),
    ...(join !== undefined ? { join: parseEndpoints(join) } : {}),
  });
  nodes.push(node);
  return node;
}

async function handshake(mark: string, wait: string): Promise<void> {
  const hs = process.env["HANDSHAKE_DIR"];
  if (hs === undefined) return;
  writeFileSync(`${hs}/${mark}`, "");
  for (let i = 0; i < 36_000 && !existsSync(`${hs}/${wait}`); i++)
    await new Promise((r) => setTimeout(r, 100));
}

const a = await start("a");
await until("a leads", () => a.runtime.status().role === "leader", 300_000);
await start("b", a.address);
await start("c", a.address);
await until("three voters", () => a.runtime.status().config.voters.length === 3, 300_000);
const client = new JuraftClient({ endpoints: [a.address], timeoutMs: 600_000 });
let next = 0;
async function run(total: number, tag: string): Promise<void> {
  let started = 0;
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (started < total) {
        started++;
        const id = `${tag}${next++}`;
        await client.apply([{ c: "bench", _id: id, assert: "d-", insert: { v: "x".repeat(100) } }]);
      }
    }),
  );
}
await run(warm, "w");
await handshake("warm", "go");
const c0 = process.cpuUsage();
const t0 = performance.now();
await run(n, "m");
const cpu = process.cpuUsage(c0);
const ms = performance.now() - t0;
await handshake("done", "go2");
process.stdout.write(
  JSON.stringify({
    mode,
    n,
    cpuUsPerTxn: Math.round(((cpu.user + cpu.system) / n) * 10) / 10,
    opsPerS: Math.round((n / ms) * 1000),
    spans: exporter.getFinishedSpans().length,
  }) + "\n",
);
client.close();
for (const node of nodes) await node.stop();
for (const t of tels) await t.close();
await dir.cleanup();
