import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { ChangeKind } from "../../proto/gen/juraft/store/v1/store_pb.js";
import type { JuraftClient, ReadConsistency } from "../client/index.js";
import { decodeDoc, mongodumpFiles, restoreSnapshot, type Value } from "../store/index.js";
import { ExitCode, usage } from "./exit.js";
import { formatExtJson, parseExtJson, parseId, readOpsText } from "./ejson-io.js";

type Print = (line: string) => void;

function consistencyOf(v: string | undefined): ReadConsistency {
  if (v === undefined || v === "quorum") return "quorum";
  if (v === "local") return "local";
  throw usage(`--consistency must be quorum or local, got ${JSON.stringify(v)}`);
}

/** `juraft txn`: applies a transaction; returns exit status 0 (applied) or 3 (aborted). */
export async function txn(
  client: JuraftClient,
  print: Print,
  arg: string | undefined,
  f: { file?: string; txnId?: string },
): Promise<number> {
  const ops = parseExtJson(await readOpsText(arg, f.file), "ops");
  if (!Array.isArray(ops))
    throw usage(
      "txn: the ops must be an Extended JSON array of {c, _id, assert?, insert?, update?, remove?}",
    );
  const r = await client.apply(ops, f.txnId === undefined ? {} : { txnId: f.txnId });
  if (r.outcome === "applied") {
    print(
      JSON.stringify({
        outcome: "applied",
        index: Number(r.index),
        revnos: r.revnos.map(Number),
        txnId: r.txnId,
        duplicate: r.duplicate,
      }),
    );
    return ExitCode.ok;
  }
  const assert = r.assert === undefined ? null : (JSON.parse(formatExtJson(r.assert)) as unknown);
  print(
    JSON.stringify({
      outcome: "aborted",
      index: Number(r.index),
      op: r.opIndex,
      reason: r.reason,
      assert,
      txnId: r.txnId,
      duplicate: r.duplicate,
    }),
  );
  return ExitCode.aborted;
}

/** `juraft get C ID`: prints the document, or exits 1 when it does not exist. */
export async function get(
  client: JuraftClient,
  print: Print,
  c: string,
  id: string,
  f: { consistency?: string },
): Promise<number> {
  const r = await client.get(c, parseId(id), { consistency: consistencyOf(f.consistency) });
  if (r.doc === undefined) {
    process.stderr.write(`juraft get: no document ${JSON.stringify(id)} in ${JSON.stringify(c)}\n`);
    return ExitCode.error;
  }
  print(formatExtJson(r.doc));
  return ExitCode.ok;
}

/** `juraft find C [FILTER]`: one canonical Extended JSON document per line. */
export async function find(
  client: JuraftClient,
  print: Print,
  c: string,
  filter: string | undefined,
  f: { consistency?: string; sort?: string; projection?: string; limit?: string; skip?: string },
): Promise<number> {
  const num = (v: string | undefined, flag: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw usage(`find: ${flag} must be a non-negative integer`);
    return n;
  };
  const limit = num(f.limit, "--limit");
  const skip = num(f.skip, "--skip");
  const r = await client.find(c, {
    ...(filter !== undefined ? { filter: parseExtJson(filter, "filter") } : {}),
    ...(f.sort !== undefined ? { sort: parseExtJson(f.sort, "sort") } : {}),
    ...(f.projection !== undefined ? { projection: parseExtJson(f.projection, "projection") } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(skip !== undefined ? { skip } : {}),
    consistency: consistencyOf(f.consistency),
  });
  for (const d of r.docs) print(formatExtJson(d));
  return ExitCode.ok;
}

const kindNames: Record<number, string> = {
  [ChangeKind.INSERT]: "insert",
  [ChangeKind.UPDATE]: "update",
  [ChangeKind.REMOVE]: "remove",
};

/** `juraft watch [C...] [--from INDEX]`: one JSON event per line until interrupted. */
export async function watch(
  client: JuraftClient,
  print: Print,
  collections: string[],
  f: { from?: string },
  signal: AbortSignal,
): Promise<number> {
  let fromIndex: bigint | undefined;
  if (f.from !== undefined) {
    if (!/^\d+$/.test(f.from)) throw usage("watch: --from must be a log index");
    fromIndex = BigInt(f.from);
  }
  try {
    for await (const ev of client.watch({
      collections,
      ...(fromIndex !== undefined ? { fromIndex } : {}),
      signal,
    })) {
      const id = decodeDoc(ev.id).get("_id") as Value;
      print(
        `{"index":${ev.index},"collection":${JSON.stringify(ev.collection)},"id":${formatExtJson(id)},"revno":${ev.revno},"kind":"${kindNames[ev.kind] ?? "unknown"}","skipped":${ev.skipped}}`,
      );
    }
  } catch (err) {
    if (signal.aborted) return ExitCode.ok;
    throw err;
  }
  return ExitCode.ok;
}

/** `juraft dump [--mongodump DIR]`: the applied state as Extended JSON lines, or a mongodump tree. */
export async function dump(
  client: JuraftClient,
  print: Print,
  f: { mongodump?: string; db: string },
): Promise<number> {
  const chunks: Uint8Array[] = [];
  let applied = 0n;
  for await (const c of client.store().dump({})) {
    if (c.appliedIndex > 0n) applied = c.appliedIndex;
    chunks.push(c.data);
  }
  const store = restoreSnapshot(chunks);
  if (f.mongodump === undefined) {
    for (const c of store.listCollections()) {
      for (const d of store.find(c))
        print(`{"collection":${JSON.stringify(c)},"document":${formatExtJson(d)}}`);
    }
    return ExitCode.ok;
  }
  let files = 0;
  for (const file of mongodumpFiles(store, f.db)) {
    const path = join(f.mongodump, file.path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, Buffer.concat([...file.chunks]));
    files++;
  }
  print(JSON.stringify({ dumped: f.mongodump, files, appliedIndex: Number(applied) }));
  return ExitCode.ok;
}
