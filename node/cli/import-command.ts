import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import cliProgress from "cli-progress";
import type { JuraftClient } from "../client/index.js";
import { STASH, decodeStream, encodeDoc } from "../store/index.js";
import { CliError, ExitCode, usage } from "./exit.js";

type Print = (line: string) => void;

/** Collections that only exist for mgo/txn's bookkeeping (SPEC §1): never imported. */
const artefacts = new Set(["txns", "txns.log", "txns.prune"]);

/**
 * `juraft import --mongodump DIR`: loads `DIR/<db>/<collection>.bson` into the running cluster
 * through Raft, in chunks, keeping each document's txn-revno; `txns.stash` last (tombstones).
 */
export async function importDump(
  client: JuraftClient,
  print: Print,
  f: { mongodump?: string; db: string; batch: string },
): Promise<number> {
  if (f.mongodump === undefined) throw usage("import: --mongodump DIR is required");
  const batch = Number(f.batch);
  if (!Number.isInteger(batch) || batch < 1 || batch > 100_000)
    throw usage("import: --batch must be 1..100000");
  const root = join(f.mongodump, f.db);
  let names: string[];
  try {
    names = (await readdir(root))
      .filter((n) => n.endsWith(".bson"))
      .map((n) => n.slice(0, -".bson".length));
  } catch (err) {
    throw new CliError(
      `import: cannot read ${root}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const collections = names
    .filter((n) => !artefacts.has(n) && !n.startsWith("system."))
    .sort((a, b) => (a === STASH ? 1 : b === STASH ? -1 : a.localeCompare(b)));
  const files = await Promise.all(
    collections.map(async (c) => ({ c, bytes: await readFile(join(root, `${c}.bson`)) })),
  );
  const totalBytes = files.reduce((n, x) => n + x.bytes.length, 0);
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar(
        { format: "import [{bar}] {percentage}% {value}/{total} bytes {collection}" },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(totalBytes, 0, { collection: "" });
  const leader = client.store(await client.leaderAddress());
  let done = 0;
  let documents = 0;
  let lastIndex = 0n;
  for (const { c, bytes } of files) {
    let chunk: Uint8Array[] = [];
    let chunkBytes = 0;
    const flush = async (): Promise<void> => {
      if (chunk.length === 0) return;
      const r = await leader.import({ collection: c, documents: chunk });
      lastIndex = r.index;
      documents += chunk.length;
      done += chunkBytes;
      bar?.update(done, { collection: c });
      chunk = [];
      chunkBytes = 0;
    };
    for (const doc of decodeStream([bytes])) {
      const enc = encodeDoc(doc);
      chunk.push(enc);
      chunkBytes += enc.length;
      if (chunk.length >= batch || chunkBytes >= 8 * 1024 * 1024) await flush();
    }
    await flush();
  }
  bar?.stop();
  print(
    JSON.stringify({
      imported: documents,
      collections: collections.length,
      index: Number(lastIndex),
    }),
  );
  return ExitCode.ok;
}
