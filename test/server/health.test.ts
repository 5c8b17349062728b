import { createClient } from "@connectrpc/connect";
import { Http2SessionManager, createGrpcTransport } from "@connectrpc/connect-node";
import {
  Health,
  HealthCheckResponse_ServingStatus as Status,
} from "../../proto/gen/grpc/health/v1/health_pb.js";
import { startNode, tempDir, until } from "./helpers.js";

// grpc.health.v1 over the gRPC protocol, as a Kubernetes grpc probe calls it.
test("health is SERVING only while the node is a caught-up member with a leader", async () => {
  const dir = await tempDir("juraft-health-");
  const node = await startNode(dir.dir, "h");
  const sessionManager = new Http2SessionManager(`http://${node.address}`);
  try {
    const health = createClient(
      Health,
      createGrpcTransport({ baseUrl: `http://${node.address}`, sessionManager }),
    );
    await until("leader", () => node.runtime.status().role === "leader");
    await until("serving", async () => (await health.check({})).status === Status.SERVING);
    expect((await health.check({ service: "juraft" })).status).toBe(Status.SERVING);
    expect((await health.check({ service: "other" })).status).toBe(Status.SERVICE_UNKNOWN);
    // Watch streams the status now and on every change.
    const ac = new AbortController();
    const seen: Status[] = [];
    const watching = (async () => {
      for await (const r of health.watch({}, { signal: ac.signal })) {
        seen.push(r.status);
        if (seen.length === 2) ac.abort();
      }
    })().catch(() => undefined);
    await until("watch saw SERVING", () => seen.length === 1);
    // A stopped runtime (the API still answering while the node shuts down) is not serving.
    await node.runtime.stop();
    expect((await health.check({})).status).toBe(Status.NOT_SERVING);
    await until("watch saw the change", () => seen.length === 2);
    await watching;
    expect(seen).toEqual([Status.SERVING, Status.NOT_SERVING]);
  } finally {
    sessionManager.abort();
    await node.stop();
    await dir.cleanup();
  }
}, 30_000);
