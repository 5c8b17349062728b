/**
 * Fuzzing the public API (StoreService): hostile op lists, malformed BSON, random and mutated
 * protobuf bytes in three wire protocols. The node never crashes, every refusal is a coded input
 * error, and nothing refused reaches the log (so the state, which only changes by applying the
 * log, cannot change: the Dump digest is compared too).
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { serialize } from "bson";
import { Code } from "@connectrpc/connect";
import fc from "fast-check";
import {
  ApplyRequestSchema,
  CountRequestSchema,
  FindRequestSchema,
  GetRequestSchema,
  Outcome,
  SessionRequestSchema,
  StoreService,
} from "../../proto/gen/juraft/store/v1/store_pb.js";
import { JuraftClient } from "../../node/client/index.js";
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

/** Keys an attacker would try: op fields, operators real and unknown, odd names. */
const key = fc.oneof(
  fc.constantFrom(
    "c",
    "_id",
    "assert",
    "insert",
    "update",
    "remove",
    "$set",
    "$inc",
    "$push",
    "$unset",
    "$pull",
    "$addToSet",
    "$rename",
    "$foo",
    "$where",
    "$expr",
    "$regex",
    "txn-revno",
    "txn-queue",
    "",
    "a.b",
    "$",
    "a.$",
    "a.0",
    "__proto__",
    "constructor",
  ),
  fc.string({ maxLength: 8 }),
);
const leaf = fc.oneof(
  fc.string({ maxLength: 16 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.date({ noInvalidDate: true }),
  fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)),
);
const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(key, tie("value"), { maxKeys: 4 }),
  ),
}));
/** An op with every field absent, well formed or hostile. */
const op = fc.record(
  {
    c: fc.oneof(fc.constantFrom("fz", "units", "", "$cmd", "a.b"), value),
    _id: value,
    assert: fc.oneof(fc.constantFrom("d+", "d-"), value),
    insert: value,
    update: fc.oneof(fc.dictionary(key, value, { maxKeys: 3 }), value),
    remove: fc.oneof(fc.boolean(), value),
  },
  { requiredKeys: [] },
);
const opsValue = fc.oneof(fc.array(op, { maxLength: 4 }), value);

/** BSON bytes mutated: flipped bits, overwritten, truncated, extended, length fields lied about. */
function mutate(bytes: Uint8Array) {
  return fc
    .array(
      fc.oneof(
        fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.nat(7) }),
        fc.record({ kind: fc.constant("set" as const), at: fc.nat(), byte: fc.nat(255) }),
        fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
        fc.record({ kind: fc.constant("grow" as const), extra: fc.uint8Array({ maxLength: 16 }) }),
        fc.record({ kind: fc.constant("len" as const), at: fc.nat(), len: fc.integer() }),
      ),
      { minLength: 1, maxLength: 4 },
    )
    .map((ms) => {
      let b = Buffer.from(bytes);
      for (const m of ms) {
        if (b.length === 0) break;
        switch (m.kind) {
          case "flip":
            b[m.at % b.length] = (b[m.at % b.length] as number) ^ (1 << m.bit);
            break;
          case "set":
            b[m.at % b.length] = m.byte;
            break;
          case "cut":
            b = b.subarray(0, m.at % b.length);
            break;
          case "grow":
            b = Buffer.concat([b, m.extra]);
            break;
          case "len":
            if (b.length >= 4) b.writeInt32LE(m.len | 0, (m.at % (b.length - 3)) & ~0);
            break;
          default: {
            const never: never = m;
            throw new Error(`unknown mutation ${JSON.stringify(never)}`);
          }
        }
      }
      return new Uint8Array(b);
    });
}

function codeOf(name: string): Code {
  const c = (Code as unknown as Record<string, Code | undefined>)[
    name.replace(/(^|_)([a-z])/g, (_m, _u, ch: string) => ch.toUpperCase())
  ];
  if (c === undefined) throw new Error(`no code ${name}`);
  return c;
}

const validOps = serialize({ ops: [{ c: "fz", _id: "seed", insert: { a: [1, { b: "x" }] } }] });

describe("fuzzing the public API", () => {
  let dir: { dir: string; cleanup: () => Promise<void> };
  let node: JuraftNode;
  let client: JuraftClient;
  const stats = { cases: 0, refused: 0, applied: 0, aborted: 0, raw: 0 };

  beforeAll(async () => {
    dir = await tempDir("juraft-fuzz-");
    node = await startNode(dir.dir, "f");
    await until(
      "f leads and applied its entries",
      () => {
        const st = node.runtime.status();
        return st.role === "leader" && node.runtime.applied === st.lastIndex;
      },
      30_000,
    );
    client = new JuraftClient({ endpoints: [node.address], attempts: 1, timeoutMs: 60_000 });
    const seeded = await client.apply([
      { c: "fz", _id: "keep", insert: { n: 1, s: "x", arr: [1, 2, 3] } },
    ]);
    expect(seeded.outcome).toBe("applied");
  }, 60_000);
  afterAll(async () => {
    client.close();
    await node.stop();
    await dir.cleanup();
    // The numbers the README quotes.
    console.log(`public API fuzz: ${JSON.stringify(stats)} (runs per property ${RUNS})`);
  }, 30_000);

  /** Applies raw ops bytes: a refusal must be coded and leave the log untouched. */
  async function applyBytes(ops: Uint8Array, what: string): Promise<void> {
    stats.cases++;
    const before = logMark(node);
    try {
      const r = await client.store().apply({ txnId: "", ops });
      if (r.outcome === Outcome.APPLIED) stats.applied++;
      else stats.aborted++;
    } catch (err) {
      stats.refused++;
      expectInputError(err, what);
      expect(logMark(node)).toBe(before);
    }
  }

  test(
    "hostile op lists: refused with coded errors or applied as valid txns",
    async () => {
      await fc.assert(
        fc.asyncProperty(opsValue, async (ops) => {
          let bytes: Uint8Array;
          try {
            bytes = serialize({ ops });
          } catch {
            return; // not even BSON-encodable (the bson encoder refuses it)
          }
          await applyBytes(
            bytes,
            `apply ${JSON.stringify(ops, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}`,
          );
        }),
        params,
      );
      expect(node.runtime.state).not.toBe("failed");
    },
    TIMEOUT_MS,
  );

  test(
    "malformed BSON in every BSON field: refused, state unchanged",
    async () => {
      const digest = await stateDigest(client);
      const appliedBefore = stats.applied;
      const idBytes = serialize({ _id: "keep" });
      const filter = serialize({ n: { $gte: 1 } });
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            mutate(validOps),
            mutate(idBytes),
            mutate(filter),
            fc.uint8Array({ maxLength: 64 }),
          ),
          async (bad) => {
            await applyBytes(bad, "apply malformed BSON");
            for (const [what, call] of [
              ["get", () => client.store().get({ collection: "fz", id: bad })],
              ["find", () => client.store().find({ collection: "fz", filter: bad })],
              ["find sort", () => client.store().find({ collection: "fz", sort: bad })],
              ["find projection", () => client.store().find({ collection: "fz", projection: bad })],
              ["count", () => client.store().count({ collection: "fz", filter: bad })],
            ] as const) {
              stats.cases++;
              try {
                await call();
              } catch (err) {
                stats.refused++;
                expectInputError(err, `${what} with malformed BSON`);
              }
            }
          },
        ),
        params,
      );
      // Anything applied above was a valid transaction (mutations can yield one): compare only
      // when none was.
      if (stats.applied === appliedBefore) expect(await stateDigest(client)).toBe(digest);
    },
    TIMEOUT_MS,
  );

  test(
    "random and mutated protobuf bytes in Connect (binary, JSON, streaming) and gRPC",
    async () => {
      const digest = await stateDigest(client);
      const before = logMark(node);
      const session = h2c(node.address);
      const seeds: Record<string, Uint8Array> = {
        Apply: toBinary(
          ApplyRequestSchema,
          create(ApplyRequestSchema, { txnId: "t", ops: new Uint8Array(validOps) }),
        ),
        Get: toBinary(
          GetRequestSchema,
          create(GetRequestSchema, { collection: "fz", id: serialize({ _id: "keep" }) }),
        ),
        Find: toBinary(
          FindRequestSchema,
          create(FindRequestSchema, { collection: "fz", filter: serialize({ n: 1 }) }),
        ),
        Count: toBinary(CountRequestSchema, create(CountRequestSchema, { collection: "fz" })),
        // What juraft's clients send, read by the raw gRPC reader (node/api/session-stream.ts).
        Session: toBinary(
          SessionRequestSchema,
          create(SessionRequestSchema, {
            calls: [
              {
                id: 1n,
                call: { case: "get", value: { collection: "fz", id: serialize({ _id: "keep" }) } },
              },
            ],
          }),
        ),
      };
      const methods = [...Object.keys(seeds), "ListCollections", "Dump", "NoSuchMethod"];
      const protocols: Protocol[] = ["connect-unary", "connect-json", "grpc"];
      try {
        await fc.assert(
          fc.asyncProperty(
            fc.constantFrom(...methods),
            fc.constantFrom(...protocols),
            fc.boolean(),
            fc.oneof(fc.uint8Array({ maxLength: 256 }), fc.constant(new Uint8Array(0))),
            fc.nat(),
            async (method, protocol, rawFrame, random, pick) => {
              const seed = seeds[method];
              const body =
                seed !== undefined && pick % 2 === 0
                  ? (fc.sample(mutate(seed), { numRuns: 1, seed: pick })[0] ?? random)
                  : random;
              // Connect unary and streaming differ by content type: each method gets its own.
              const streaming = method === "Dump" || method === "Session";
              const proto: Protocol =
                protocol === "grpc" || method === "Session"
                  ? "grpc"
                  : streaming
                    ? "connect-stream"
                    : protocol;
              stats.cases++;
              stats.raw++;
              const a = await rawCall(
                session,
                `/${StoreService.typeName}/${method}`,
                proto,
                body,
                rawFrame,
              );
              if (a.code !== "ok") {
                stats.refused++;
                expect([method, proto, a.code, a.message, isInputRefusal(a)]).toEqual([
                  method,
                  proto,
                  a.code,
                  a.message,
                  true,
                ]);
              }
            },
          ),
          params,
        );
      } finally {
        session.close();
      }
      // A mutated Apply may decode to a valid one: only then may the log have moved.
      if (logMark(node) === before) expect(await stateDigest(client)).toBe(digest);
      expect(node.runtime.state).not.toBe("failed");
    },
    TIMEOUT_MS,
  );

  test("hostile shapes: huge arrays, deep nesting, giant strings, unknown operators, too many ops", async () => {
    const big = (n: number): unknown[] => Array.from({ length: n }, (_, i) => i);
    let deep: unknown = 1;
    for (let i = 0; i < 150; i++) deep = { d: deep };
    let deepArr: unknown = 1;
    for (let i = 0; i < 150; i++) deepArr = [deepArr];
    const cases: [string, unknown, string][] = [
      [
        "unknown update operator",
        [{ c: "fz", _id: "keep", update: { $where: { n: 1 } } }],
        "invalid_argument",
      ],
      [
        "unknown query operator in assert",
        [{ c: "fz", _id: "keep", assert: { n: { $foo: 1 } }, update: { $set: { n: 2 } } }],
        "invalid_argument",
      ],
      [
        "deep nesting (150 levels)",
        [{ c: "fz", _id: "deep", insert: { v: deep } }],
        "invalid_argument",
      ],
      [
        "deep array nesting (150 levels)",
        [{ c: "fz", _id: "deeparr", insert: { v: deepArr } }],
        "invalid_argument",
      ],
      [
        "giant string over the 16 MiB limit",
        [{ c: "fz", _id: "big", insert: { s: "x".repeat(17 * 1024 * 1024) } }],
        "resource_exhausted",
      ],
      [
        "10,001 ops",
        Array.from({ length: 10_001 }, (_, i) => ({ c: "fz", _id: `m${i}`, insert: {} })),
        "invalid_argument",
      ],
      ["an op that is a number", [1], "invalid_argument"],
      ["ops that are a string", "ops", "invalid_argument"],
      ["empty op list", [], "invalid_argument"],
      ["insert of a non-document", [{ c: "fz", _id: "x", insert: [1, 2] }], "invalid_argument"],
      ["$ in a field name", [{ c: "fz", _id: "x", insert: { $bad: 1 } }], "invalid_argument"],
      ["assert on a missing op kind", [{ c: "fz", _id: "x" }], "invalid_argument"],
    ];
    const digest = await stateDigest(client);
    const before = logMark(node);
    const timings: string[] = [];
    for (const [what, ops, code] of cases) {
      stats.cases++;
      const t0 = performance.now();
      try {
        await client.store().apply({ txnId: "", ops: serialize({ ops }) });
        throw new Error(`${what}: accepted`);
      } catch (err) {
        stats.refused++;
        const ce = expectInputError(err, what);
        expect([
          what,
          ce.message.length > 0,
          (ce.metadata.get("juraft-reason") ?? "").length > 0,
        ]).toEqual([what, true, true]);
        expect([what, ce.code]).toEqual([what, codeOf(code)]);
      }
      timings.push(`${what}: ${(performance.now() - t0).toFixed(0)} ms`);
    }
    // A 100,000-element array within the size limit is data, not an attack: it applies.
    const t0 = performance.now();
    const huge = await client.apply([{ c: "fz", _id: "huge", insert: { a: big(100_000) } }]);
    expect(huge.outcome).toBe("applied");
    timings.push(`100,000-element array applied: ${(performance.now() - t0).toFixed(0)} ms`);
    console.log(timings.join("\n"));
    expect(logMark(node)).not.toBe(before);
    expect(await stateDigest(client)).not.toBe(digest);
    expect(node.runtime.state).not.toBe("failed");
  }, 120_000);
});
