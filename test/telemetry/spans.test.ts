import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { JuraftClient } from "../../node/client/index.js";
import { parseEndpoints } from "../../node/cluster/discovery.js";
import type { JuraftNode } from "../../node/server/juraft-node.js";
import {
  clientTelemetry,
  startNodeTelemetry,
  startTracing,
  type NodeTelemetry,
  type TracingConfig,
  type Tracing,
} from "../../node/telemetry/index.js";
import { startNode, tempDir, until } from "../server/helpers.js";

const cfg: TracingConfig = {
  exporter: "memory",
  protocol: "http/protobuf",
  ratio: 1,
  parentBased: true,
  serviceName: "juraft-test",
};

/** The spans of one trace, with helpers to find them by name and node. */
class Trace {
  constructor(readonly spans: readonly ReadableSpan[]) {}
  named(name: string, node?: string): ReadableSpan[] {
    return this.spans.filter(
      (s) => s.name === name && (node === undefined || s.attributes["juraft.node"] === node),
    );
  }
  one(name: string, node?: string): ReadableSpan {
    const found = this.named(name, node);
    if (found.length !== 1)
      throw new Error(
        `expected one ${name} span${node === undefined ? "" : ` on ${node}`}, got ${found.length}: ${this.spans.map((s) => `${s.name}@${String(s.attributes["juraft.node"])}`).join(", ")}`,
      );
    return found[0] as ReadableSpan;
  }
}

function parentOf(s: ReadableSpan): string | undefined {
  return s.parentSpanContext?.spanId;
}

describe("traces of a transaction across three in-process nodes (in-memory exporters)", () => {
  let dir: { dir: string; cleanup: () => Promise<void> };
  const nodes: JuraftNode[] = [];
  const tels: NodeTelemetry[] = [];
  const exporters = new Map<string, InMemorySpanExporter>();
  let clientTracing: Tracing | undefined;
  const clientExporter = new InMemorySpanExporter();

  beforeAll(async () => {
    dir = await tempDir("juraft-otel-");
  });
  afterAll(async () => {
    for (const n of nodes) await n.stop();
    for (const t of tels) await t.close();
    await clientTracing?.shutdown();
    await dir.cleanup();
  }, 30_000);

  async function start(name: string, join?: string): Promise<JuraftNode> {
    const exporter = new InMemorySpanExporter();
    exporters.set(name, exporter);
    const telemetry = await startNodeTelemetry({ node: name, tracing: cfg, exporter });
    tels.push(telemetry);
    const n = await startNode(dir.dir, name, {
      telemetry,
      ...(join !== undefined ? { join: parseEndpoints(join) } : {}),
    });
    nodes.push(n);
    return n;
  }

  /** Nodes hand their recorded spans to the SDK in batches (deferred.ts): hand them over now. */
  async function flushNodes(): Promise<void> {
    for (const t of tels) await t.tracing?.flush();
  }

  function spansOf(traceId: string): Trace {
    const all: ReadableSpan[] = [...clientExporter.getFinishedSpans()];
    for (const e of exporters.values()) all.push(...e.getFinishedSpans());
    return new Trace(all.filter((s) => s.spanContext().traceId === traceId));
  }

  test("a transaction sent to a follower is one trace through relay, propose, append, commit (replication events) and apply on every node", async () => {
    const a = await start("a");
    await until("a leads", () => a.runtime.status().role === "leader");
    await start("b", a.address);
    await start("c", a.address);
    await until("three voters", () => a.runtime.status().config.voters.length === 3);

    clientTracing = await startTracing(cfg, { instance: "client", exporter: clientExporter });
    await using client = new JuraftClient({
      endpoints: [nodes[1]?.address ?? ""],
      telemetry: clientTelemetry(clientTracing),
    });
    const r = await client.apply([
      { c: "machines", _id: "0", assert: "d-", insert: { life: 0 } },
      { c: "units", _id: "u/0", insert: { machine: "0" } },
    ]);
    expect(r.outcome).toBe("applied");
    const root = clientExporter.getFinishedSpans().find((s) => s.name === "juraft.client.apply");
    if (root === undefined) throw new Error("no client span");
    const traceId = root.spanContext().traceId;
    const names = ["a", "b", "c"];
    // Followers apply after the client got its answer: wait for their spans.
    await until("apply spans on all three nodes", () =>
      names.every((n) => spansOf(traceId).named("juraft.apply", n).length === 1),
    );
    await until("append spans on all three nodes", () =>
      names.every((n) => spansOf(traceId).named("juraft.append", n).length === 1),
    ).catch((err: unknown) => {
      throw new Error(
        `${String(err)}: ${spansOf(traceId)
          .spans.map((s) => `${s.name}@${String(s.attributes["juraft.node"])}`)
          .join(", ")}`,
      );
    });
    await flushNodes();
    const t = spansOf(traceId);

    // Client -> follower b (server span) -> relay (client span) -> leader a (server span).
    expect(root.attributes["juraft.client.retry_count"]).toBe(0);
    expect(root.attributes["juraft.txn.op_count"]).toBe(2);
    const bServer = t.one("juraft.store.v1.StoreService/Apply", "b");
    expect(parentOf(bServer)).toBe(root.spanContext().spanId);
    expect(bServer.attributes["juraft.txn.collections"]).toEqual(["machines", "units"]);
    expect(bServer.attributes["juraft.txn.op_count"]).toBe(2);
    const relay = t.one("juraft.relay", "b");
    expect(parentOf(relay)).toBe(bServer.spanContext().spanId);
    const aServer = t.one("juraft.store.v1.StoreService/Apply", "a");
    expect(parentOf(aServer)).toBe(relay.spanContext().spanId);

    // Leader: propose, with its durable append, commit (replication events on it) and apply.
    const propose = t.one("juraft.propose", "a");
    expect(parentOf(propose)).toBe(aServer.spanContext().spanId);
    expect(propose.attributes["juraft.txn.outcome"]).toBe("applied");
    expect(propose.attributes["juraft.raft.role"]).toBe("leader");
    const index = propose.attributes["juraft.raft.index"];
    expect(typeof index).toBe("number");
    const pid = propose.spanContext().spanId;
    for (const name of ["juraft.append", "juraft.commit", "juraft.apply"])
      expect(parentOf(t.one(name, "a"))).toBe(pid);
    const peers = [nodes[1]?.identity.id.toString(), nodes[2]?.identity.id.toString()].sort();
    const commitEvents = (name: string): unknown[] =>
      t
        .one("juraft.commit", "a")
        .events.filter((e) => e.name === name)
        .map((e) => e.attributes?.["juraft.raft.peer"])
        .sort();
    expect(commitEvents("juraft.replicate.sent")).toEqual(peers);
    // A quorum of three is the leader and one follower: at least one acknowledged before commit.
    const acked = commitEvents("juraft.replicate.acked");
    expect(acked.length).toBeGreaterThanOrEqual(1);
    for (const a of acked) expect(peers).toContain(a);
    expect(t.named("juraft.replicate", "a")).toEqual([]);
    expect(t.one("juraft.append", "a").attributes["juraft.raft.sync"]).toBe(true);

    // Followers: append and apply are children of the leader's propose span (from the entry).
    for (const n of ["b", "c"]) {
      const ap = t.one("juraft.append", n);
      const apply = t.one("juraft.apply", n);
      expect(parentOf(ap)).toBe(pid);
      expect(parentOf(apply)).toBe(pid);
      expect(apply.attributes["juraft.raft.index"]).toBe(index);
      expect(apply.attributes["juraft.raft.role"]).toBe("follower");
      expect(apply.attributes["juraft.txn.outcome"]).toBe("applied");
      expect(ap.attributes["juraft.raft.batch_size"]).toBeGreaterThanOrEqual(1);
    }

    // A failing assert: the outcome and the assert are on the apply spans.
    const ab = await client.apply([{ c: "machines", _id: "0", assert: "d-", insert: {} }]);
    expect(ab.outcome).toBe("aborted");
    const abRoot = clientExporter
      .getFinishedSpans()
      .filter((s) => s.name === "juraft.client.apply")
      .at(-1);
    const abTrace = (): Trace => spansOf(abRoot?.spanContext().traceId ?? "");
    await until("aborted apply on c", () => abTrace().named("juraft.apply", "c").length === 1);
    const abApply = abTrace().one("juraft.apply", "c");
    expect(abApply.attributes["juraft.txn.outcome"]).toBe("aborted");
    expect(abApply.attributes["juraft.txn.failed_op"]).toBe(0);
    expect(abApply.attributes["juraft.txn.failed_assert"]).toEqual(expect.any(String));

    // A quorum read on a follower: the ReadIndex wait is a child of the Get server span.
    await client.get("machines", "0");
    await flushNodes();
    const bSpans = exporters.get("b")?.getFinishedSpans() ?? [];
    const get = bSpans.find((s) => s.name === "juraft.store.v1.StoreService/Get");
    const wait = bSpans.find((s) => s.name === "juraft.read_index");
    expect(get).toBeDefined();
    expect(wait && parentOf(wait)).toBe(get?.spanContext().spanId);

    // The bootstrap election of a: one span, its role changes as events.
    const election = exporters
      .get("a")
      ?.getFinishedSpans()
      .find((s) => s.name === "juraft.election");
    expect(election?.attributes["juraft.election.outcome"]).toBe("leader");
    expect(election?.events.map((e) => e.name)).toContain("became leader");

    // A watch stream on a follower: each delivery is a span under the Watch server span,
    // because the stream's iterator re-enters the span's context on every next().
    const ac = new AbortController();
    const seen: bigint[] = [];
    const watching = (async () => {
      for await (const ev of client.watch({ collections: ["machines"], signal: ac.signal })) {
        seen.push(ev.index);
        ac.abort();
      }
    })().catch((err: unknown) => {
      if (!ac.signal.aborted) throw err;
    });
    await until("the watch stream is open", () => (nodes[1]?.hub.stats().watchers ?? 0) === 1);
    await client.apply([{ c: "machines", _id: "w", insert: {} }]);
    await watching;
    expect(seen).toHaveLength(1);
    const bFinished = (): ReadableSpan[] => exporters.get("b")?.getFinishedSpans() ?? [];
    await until("the Watch server span ends", () =>
      bFinished().some((s) => s.name === "juraft.store.v1.StoreService/Watch"),
    );
    const watchSpan = bFinished().find((s) => s.name === "juraft.store.v1.StoreService/Watch");
    const delivered = bFinished().filter((s) => s.name === "juraft.watch.deliver");
    expect(delivered).toHaveLength(1);
    expect(parentOf(delivered[0] as ReadableSpan)).toBe(watchSpan?.spanContext().spanId);
    expect(delivered[0]?.attributes["juraft.raft.index"]).toBe(Number(seen[0]));
  }, 60_000);
});
