import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import {
  connectNodeAdapter,
  createConnectTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import {
  ApplyRequestSchema,
  GetRequestSchema,
  SessionRequestSchema,
  StoreService,
  type SessionRequest,
} from "../../proto/gen/juraft/store/v1/store_pb.js";
import {
  JuraftClient,
  SessionMux,
  grpcSessionOpener,
  managerStreams,
} from "../../node/client/index.js";
import { parseEndpoints } from "../../node/cluster/discovery.js";
import type { JuraftNode } from "../../node/server/juraft-node.js";
import { encodeDoc, toDoc } from "../../node/store/index.js";
import { startNode, tempDir, until } from "./helpers.js";

/** A raw session to `address`, as a relaying node or a custom client would hold. */
function rawSession(address: string): { mux: SessionMux; close: () => void } {
  const sessions = new Http2SessionManager(`http://${address}`);
  const mux = new SessionMux(grpcSessionOpener(managerStreams(sessions, {}), address), address);
  return {
    mux,
    close: () => {
      mux.close();
      sessions.abort();
    },
  };
}

const opsOf = (ops: unknown[]): Uint8Array => encodeDoc(toDoc({ ops }, "ops"));

describe("StoreService.Session: many calls over one stream", () => {
  let dir: { dir: string; cleanup: () => Promise<void> };
  const nodes: JuraftNode[] = [];
  let leader: JuraftNode;
  let follower: JuraftNode;

  beforeAll(async () => {
    dir = await tempDir("juraft-session-");
    const a = await startNode(dir.dir, "a");
    nodes.push(a);
    await until("a leads", () => a.runtime.status().role === "leader");
    const join = parseEndpoints(a.address);
    nodes.push(await startNode(dir.dir, "b", { join }));
    nodes.push(await startNode(dir.dir, "c", { join }));
    await until("three voters", () => a.runtime.status().config.voters.length === 3);
    leader = a;
    follower = nodes[1] as JuraftNode;
  }, 60_000);
  afterAll(async () => {
    for (const n of nodes) await n.stop();
    await dir.cleanup();
  }, 30_000);

  test("concurrent calls on a follower are relayed, batched and answered each by its id", async () => {
    await using client = new JuraftClient({ endpoints: [follower.address] });
    const n = 200;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        client.apply([{ c: "units", _id: `u${i}`, assert: "d-", insert: { i } }], {
          txnId: `t${i}`,
        }),
      ),
    );
    // Each answer is its own transaction's: the txn id comes back, every index is distinct.
    expect(results.map((r) => r.txnId)).toEqual(Array.from({ length: n }, (_, i) => `t${i}`));
    expect(new Set(results.map((r) => r.index)).size).toBe(n);
    for (const r of results) expect(r.outcome).toBe("applied");
    // Reads in the same session see the writes (quorum), matched to the right ids.
    const reads = await Promise.all(
      Array.from({ length: n }, (_, i) => client.get("units", `u${i}`)),
    );
    reads.forEach((g, i) => {
      expect(g.doc?.get("i")).toBe(i);
    });
  });

  test("a client with every endpoint sends writes to the leader once it knows it", async () => {
    await using client = new JuraftClient({
      endpoints: [follower.address, (nodes[2] as JuraftNode).address, leader.address],
    });
    await using relaying = new JuraftClient({
      endpoints: [follower.address, leader.address],
      routeWritesToLeader: false,
    });
    expect(client.leaderEndpoint).toBeUndefined();
    await client.apply([{ c: "route", _id: "first", insert: {} }]);
    await until("the client learned the leader", async () => {
      await client.apply([{ c: "route", _id: "again", insert: {} }]);
      return client.leaderEndpoint === leader.address;
    });
    await relaying.apply([{ c: "route", _id: "relayed", insert: {} }]);
    expect(relaying.leaderEndpoint).toBeUndefined();
  });

  test("one bad call fails alone, with its code and reason; its neighbours apply", async () => {
    await using client = new JuraftClient({ endpoints: [leader.address] });
    const [good, bad, good2] = await Promise.allSettled([
      client.apply([{ c: "m", _id: "g1", insert: {} }]),
      client.apply([{ c: "m", _id: "x", update: { $frobnicate: { a: 1 } } }]),
      client.apply([{ c: "m", _id: "g2", insert: {} }]),
    ]);
    expect(good.status).toBe("fulfilled");
    expect(good2.status).toBe("fulfilled");
    expect(bad.status).toBe("rejected");
    const err = ConnectError.from((bad as PromiseRejectedResult).reason as unknown);
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.metadata.get("juraft-reason")).toBe("UNKNOWN_OPERATOR");
  });

  test("a relayed call that reaches a follower is refused with NOT_LEADER, not relayed again", async () => {
    const s = rawSession(follower.address);
    try {
      const call = s.mux.apply(
        create(ApplyRequestSchema, { txnId: "r1", ops: opsOf([{ c: "m", _id: "r", insert: {} }]) }),
        { timeoutMs: 10_000, relayed: true },
      );
      await expect(call).rejects.toMatchObject({ code: Code.Unavailable });
      const err: ConnectError = await call.then(
        () => new ConnectError("applied", Code.Unknown),
        (e: unknown) => ConnectError.from(e),
      );
      expect(err.metadata.get("juraft-reason")).toBe("NOT_LEADER");
    } finally {
      s.close();
    }
    expect(leader.runtime.store.get("m", "r")).toBeUndefined();
  });

  test("a call past its deadline fails with DEADLINE_EXCEEDED; a closed session fails calls at once", async () => {
    // A node that takes calls and never answers them.
    const server = http2.createServer(
      connectNodeAdapter({
        routes: (router) => {
          router.service(StoreService, {
            async *session(requests) {
              for await (const r of requests) expect(r.calls.length).toBeGreaterThan(0);
              yield* [];
            },
          });
        },
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const s = rawSession(`127.0.0.1:${(server.address() as AddressInfo).port}`);
    try {
      const read = s.mux.get(create(GetRequestSchema, { collection: "m" }), { timeoutMs: 300 });
      await expect(read).rejects.toMatchObject({ code: Code.DeadlineExceeded });
      s.mux.close();
      await expect(
        s.mux.get(create(GetRequestSchema, { collection: "m" }), { timeoutMs: 1000 }),
      ).rejects.toMatchObject({ code: Code.Canceled });
    } finally {
      s.close();
      server.close();
    }
  });

  test("the Connect protocol's Session is still served (other clients), beside raw gRPC", async () => {
    const sessions = new Http2SessionManager(`http://${leader.address}`);
    try {
      const store = createClient(
        StoreService,
        createConnectTransport({
          baseUrl: `http://${leader.address}`,
          httpVersion: "2",
          useBinaryFormat: true,
          sessionManager: sessions,
        }),
      );
      async function* requests(): AsyncIterable<SessionRequest> {
        await Promise.resolve();
        yield create(SessionRequestSchema, {
          calls: [
            {
              id: 7n,
              call: {
                case: "apply",
                value: { txnId: "cx", ops: opsOf([{ c: "m", _id: "cx", insert: {} }]) },
              },
            },
          ],
        });
      }
      const got: bigint[] = [];
      for await (const res of store.session(requests())) {
        for (const r of res.results) {
          expect(r.result.case).toBe("apply");
          got.push(r.id);
        }
      }
      expect(got).toEqual([7n]);
      expect(leader.runtime.store.get("m", "cx")).toBeDefined();
    } finally {
      sessions.abort();
    }
  });

  test("a session broken by a stopped node fails its calls with UNAVAILABLE; the client retries elsewhere", async () => {
    const last = nodes[2] as JuraftNode;
    await using client = new JuraftClient({ endpoints: [last.address, leader.address] });
    expect((await client.apply([{ c: "m", _id: "before", insert: {} }])).outcome).toBe("applied");
    await last.stop();
    const r = await client.apply([{ c: "m", _id: "after", insert: {} }]);
    expect(r.outcome).toBe("applied");
    expect(leader.runtime.store.get("m", "after")).toBeDefined();
  });
});
