/**
 * Fuzzing the peer API (RaftService, ClusterService Join and Relay) as a stranger would reach it:
 * random and mutated protobuf bytes, well-formed Raft messages of every type with random fields
 * under a foreign cluster id, joins and relays from another cluster. Members are trusted (mutual
 * TLS authenticates them; Raft does not tolerate Byzantine members), so the cases here are the
 * ones a non-member can send. Nothing is stepped, nothing reaches the log, the state is unchanged.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { serialize } from "bson";
import fc from "fast-check";
import {
  ClusterService,
  JoinRequestSchema,
  RelayRequestSchema,
} from "../../proto/gen/juraft/cluster/v1/cluster_pb.js";
import {
  MessageSchema,
  MessageType,
  RaftService,
  SendRequestSchema,
  StreamRequestSchema,
} from "../../proto/gen/juraft/raft/v1/raft_pb.js";
import { JuraftClient } from "../../node/client/index.js";
import { PeerClients } from "../../node/cluster/peer-clients.js";
import { encodeBatch } from "../../node/cluster/wire-codec.js";
import type { JuraftNode } from "../../node/server/juraft-node.js";
import { startNode, tempDir, until } from "../server/helpers.js";
import {
  RUNS,
  TIMEOUT_MS,
  SEED,
  expectInputError,
  h2c,
  isInputRefusal,
  logMark,
  rawCall,
  stateDigest,
  type Protocol,
} from "./harness.js";

const params = { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) };

const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const messageTypes = Object.values(MessageType).filter(
  (v): v is MessageType => typeof v === "number",
);
/** A Raft message of any type with every field random (entries with random bytes too). */
const raftMessage = fc
  .record({
    type: fc.oneof(fc.constantFrom(...messageTypes), fc.integer({ min: -5, max: 100 })),
    from: u64,
    to: u64,
    term: u64,
    logTerm: u64,
    index: u64,
    commit: u64,
    reject: fc.boolean(),
    context: fc.uint8Array({ maxLength: 16 }),
    entries: fc.array(
      fc.record({
        term: u64,
        index: u64,
        type: fc.integer({ min: -1, max: 5 }),
        data: fc.uint8Array({ maxLength: 32 }),
      }),
      { maxLength: 3 },
    ),
  })
  .map((m) => create(MessageSchema, m as Parameters<typeof create<typeof MessageSchema>>[1]));

describe("fuzzing the peer API", () => {
  let dir: { dir: string; cleanup: () => Promise<void> };
  let node: JuraftNode;
  let client: JuraftClient;
  const peers = new PeerClients();
  const stats = { cases: 0, refused: 0, raw: 0 };

  beforeAll(async () => {
    dir = await tempDir("juraft-peer-fuzz-");
    node = await startNode(dir.dir, "p");
    await until(
      "p leads and applied its entries",
      () => {
        const st = node.runtime.status();
        return st.role === "leader" && node.runtime.applied === st.lastIndex;
      },
      30_000,
    );
    client = new JuraftClient({ endpoints: [node.address], attempts: 1, timeoutMs: 30_000 });
    expect((await client.apply([{ c: "pz", _id: "keep", insert: { n: 1 } }])).outcome).toBe(
      "applied",
    );
  }, 60_000);
  afterAll(async () => {
    peers.close();
    client.close();
    await node.stop();
    await dir.cleanup();
    console.log(`peer API fuzz: ${JSON.stringify(stats)} (runs per property ${RUNS})`);
  }, 30_000);

  test(
    "Raft messages of every type with random fields from another cluster are refused",
    async () => {
      const digest = await stateDigest(client);
      const before = logMark(node);
      const foreign = fc
        .oneof(fc.constant(""), fc.string({ maxLength: 40 }))
        .filter((id) => id !== node.identity.clusterId);
      await fc.assert(
        fc.asyncProperty(
          foreign,
          fc.array(raftMessage, { maxLength: 4 }),
          async (clusterId, messages) => {
            stats.cases++;
            try {
              await peers.raft(node.peerAddress).send({ clusterId, messages });
              throw new Error(`send from cluster ${JSON.stringify(clusterId)}: accepted`);
            } catch (err) {
              stats.refused++;
              const ce = expectInputError(err, "raft send");
              expect(ce.metadata.get("juraft-reason")).toBe("CLUSTER_MISMATCH");
            }
            expect(logMark(node)).toBe(before);
          },
        ),
        params,
      );
      expect(await stateDigest(client)).toBe(digest);
    },
    TIMEOUT_MS,
  );

  test(
    "joins from another cluster are refused, whatever the name, address and id",
    async () => {
      const digest = await stateDigest(client);
      const before = logMark(node);
      const members = node.runtime.status().config;
      await fc.assert(
        fc.asyncProperty(
          fc.string({ minLength: 1, maxLength: 30 }).filter((id) => id !== node.identity.clusterId),
          fc.string({ maxLength: 20 }),
          fc.string({ maxLength: 30 }),
          u64,
          async (clusterId, name, address, nodeId) => {
            stats.cases += 1;
            try {
              await peers
                .cluster(node.peerAddress)
                .join({ clusterId, name, address, nodeId, manualPromotion: false });
              throw new Error("join from another cluster: accepted");
            } catch (err) {
              stats.refused++;
              expectInputError(err, "join");
            }
            expect(logMark(node)).toBe(before);
          },
        ),
        params,
      );
      expect(node.runtime.status().config).toEqual(members);
      expect(await stateDigest(client)).toBe(digest);
    },
    TIMEOUT_MS,
  );

  test(
    "random and mutated bytes on every peer method, in Connect and gRPC",
    async () => {
      const digest = await stateDigest(client);
      const before = logMark(node);
      const session = h2c(node.peerAddress);
      const foreign = "another-cluster";
      const seeds: Record<string, Uint8Array> = {
        [`${RaftService.typeName}/Send`]: toBinary(
          SendRequestSchema,
          create(SendRequestSchema, {
            clusterId: foreign,
            messages: [
              create(MessageSchema, {
                type: MessageType.HEARTBEAT,
                from: 7n,
                to: node.identity.id,
                term: 99n,
              }),
            ],
          }),
        ),
        // Members' Stream: the raw gRPC implementation (node/api/raft-stream.ts).
        [`${RaftService.typeName}/Stream`]: toBinary(
          StreamRequestSchema,
          create(StreamRequestSchema, {
            clusterId: foreign,
            batch: encodeBatch([
              {
                type: "heartbeat",
                group: 0n,
                from: 7n,
                to: node.identity.id,
                term: 99,
                commit: 0,
                context: new Uint8Array(0),
                sentTick: 0,
              },
            ]),
          }),
        ),
        [`${ClusterService.typeName}/Join`]: toBinary(
          JoinRequestSchema,
          create(JoinRequestSchema, {
            clusterId: foreign,
            name: "x",
            address: "127.0.0.1:1",
            nodeId: 5n,
          }),
        ),
        [`${ClusterService.typeName}/Relay`]: toBinary(
          RelayRequestSchema,
          create(RelayRequestSchema, { request: { txnId: "r", ops: serialize({ ops: "bad" }) } }),
        ),
      };
      const paths = [...Object.keys(seeds), `${RaftService.typeName}/InstallSnapshot`];
      const protocols: Protocol[] = ["connect-unary", "connect-json", "grpc"];
      try {
        await fc.assert(
          fc.asyncProperty(
            fc.constantFrom(...paths),
            fc.constantFrom(...protocols),
            fc.uint8Array({ maxLength: 200 }),
            fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }),
            async (path, protocol, random, edits) => {
              const seed = seeds[path];
              let body = random;
              if (seed !== undefined && edits.length > 0) {
                body = new Uint8Array(seed);
                for (const [at, b] of edits) body[at % body.length] = b;
              }
              const streaming = path.endsWith("InstallSnapshot") || path.endsWith("/Stream");
              const proto: Protocol =
                protocol === "grpc" || path.endsWith("/Stream")
                  ? "grpc"
                  : streaming
                    ? "connect-stream"
                    : protocol;
              stats.cases++;
              stats.raw++;
              const a = await rawCall(session, `/${path}`, proto, body);
              if (a.code !== "ok") stats.refused++;
              // Join with edited bytes may decode to a join without a cluster id (a fresh node's
              // join, which members may send): the only call here that may be accepted.
              const acceptable = isInputRefusal(a) || (a.code === "ok" && path.endsWith("/Join"));
              expect([path, proto, a.code, a.message, acceptable]).toEqual([
                path,
                proto,
                a.code,
                a.message,
                true,
              ]);
            },
          ),
          params,
        );
      } finally {
        session.close();
      }
      if (logMark(node) === before) expect(await stateDigest(client)).toBe(digest);
      expect(node.runtime.state).not.toBe("failed");
    },
    TIMEOUT_MS,
  );
});
