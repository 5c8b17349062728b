/**
 * Bad input through the real API of a `juraft serve` process gets the documented Connect codes
 * and `juraft-reason` headers, never reaches the log, and the node keeps working afterwards.
 */
import { jest } from "@jest/globals";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { Http2SessionManager, createConnectTransport } from "@connectrpc/connect-node";
import { RaftService } from "../../proto/gen/juraft/raft/v1/raft_pb.js";
import type { JuraftClient } from "../../node/client/index.js";
import { Harness, type ProcNode } from "./harness.js";

jest.setTimeout(30_000);

let h: Harness;
let node: ProcNode;
let client: JuraftClient;

beforeAll(async () => {
  h = await Harness.create("api");
  node = await h.node("a0");
  await node.start();
  client = h.client([node]);
  await h.leader();
}, 30_000);

afterAll(async () => {
  await h.cleanup();
}, 30_000);

async function failure(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail");
}

const reasonOf = (e: ConnectError): string | null => e.metadata.get("juraft-reason");

test("malformed BSON, unknown operator, empty op list: InvalidArgument with a reason", async () => {
  const before = (await client.status()).lastIndex;
  const store = client.store();
  const bad = await failure(store.apply({ txnId: "t1", ops: new Uint8Array([5, 0, 0, 0, 7]) }));
  expect(bad.code).toBe(Code.InvalidArgument);
  expect(reasonOf(bad)).toBe("BAD_BSON");

  const unknown = await failure(client.apply([{ c: "m", _id: "0", update: { $frob: { a: 1 } } }]));
  expect(unknown.code).toBe(Code.InvalidArgument);
  expect(reasonOf(unknown)).toBe("UNKNOWN_OPERATOR");
  expect(unknown.rawMessage).toMatch(/\$frob/);

  const unknownQuery = await failure(client.find("m", { filter: { a: { $frob: 1 } } }));
  expect(unknownQuery.code).toBe(Code.InvalidArgument);
  expect(reasonOf(unknownQuery)).toBe("UNKNOWN_OPERATOR");

  const empty = await failure(client.apply([]));
  expect(empty.code).toBe(Code.InvalidArgument);
  expect(reasonOf(empty)).toBe("EMPTY_TXN");

  const badColl = await failure(client.get("$bad", "x"));
  expect(badColl.code).toBe(Code.InvalidArgument);
  expect(reasonOf(badColl)).toBe("BAD_COLLECTION");

  // None of it reached the log.
  expect((await client.status()).lastIndex).toBe(before);
});

test("an oversize transaction: ResourceExhausted before it is decoded", async () => {
  const ops = new Uint8Array(16 * 1024 * 1024 + 1);
  const e = await failure(client.store().apply({ txnId: "big", ops }));
  expect(e.code).toBe(Code.ResourceExhausted);
  expect(reasonOf(e)).toBe("TXN_TOO_LARGE");
});

test("Raft traffic from another cluster id: FailedPrecondition", async () => {
  const baseUrl = `http://${node.address}`;
  const sessionManager = new Http2SessionManager(baseUrl);
  try {
    const raft = createClient(
      RaftService,
      createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true, sessionManager }),
    );
    const e = await failure(raft.send({ clusterId: "some-other-cluster", messages: [] }));
    expect(e.code).toBe(Code.FailedPrecondition);
    expect(reasonOf(e)).toBe("CLUSTER_MISMATCH");
    // A Join from another cluster is refused the same way.
    const j = await failure(
      client
        .cluster()
        .join({ name: "stranger", address: "127.0.0.1:1", clusterId: "other", nodeId: 7n }),
    );
    expect(j.code).toBe(Code.FailedPrecondition);
    expect(reasonOf(j)).toBe("CLUSTER_MISMATCH");
  } finally {
    sessionManager.abort();
  }
});

test("the node keeps working after all of it", async () => {
  const r = await client.apply([{ c: "m", _id: "ok", insert: { fine: true } }]);
  expect(r.outcome).toBe("applied");
  const g = await client.get("m", "ok");
  expect(g.doc?.get("fine")).toBe(true);
  expect((await client.status()).role).toBe("leader");
});
