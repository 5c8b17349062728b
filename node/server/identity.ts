import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, writeFile, open } from "node:fs/promises";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { ClusterError } from "../cluster/errors.js";
import type { NodeId } from "../raft/index.js";

/** Who a node is, recorded in its data directory once it has bootstrapped or joined. */
export interface NodeIdentity {
  readonly id: NodeId;
  readonly name: string;
  readonly clusterId: string;
  /** Transaction semantics, fixed for the cluster's life: "client" (mgo/txn) or "server" (sstxn). */
  readonly mode: "client" | "server";
}

const fileName = "node.json";

/** Returns a random non-zero 63-bit node id: ids are never reused (DESIGN.md §6). */
export function newNodeId(): NodeId {
  for (;;) {
    const id = randomBytes(8).readBigUInt64BE() >> 1n;
    if (id !== 0n) return id;
  }
}

/** Reads the identity recorded in `dir`, or undefined for a fresh directory. */
export async function readIdentity(dir: string): Promise<NodeIdentity | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, fileName), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  try {
    const j = JSON.parse(text) as Record<string, unknown>;
    const { id, name, clusterId, mode } = j;
    if (typeof id !== "string" || typeof name !== "string" || typeof clusterId !== "string") {
      throw new Error("missing fields");
    }
    if (mode !== "client" && mode !== "server")
      throw new Error(`unknown mode ${JSON.stringify(mode)}`);
    return { id: BigInt(id), name, clusterId, mode };
  } catch (err) {
    throw new ClusterError(
      Code.DataLoss,
      "CORRUPT_IDENTITY",
      `read ${join(dir, fileName)}: ${String(err)}`,
    );
  }
}

/** Records the identity durably (temp file, fsync, rename). */
export async function writeIdentity(dir: string, identity: NodeIdentity): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `${fileName}.tmp`);
  const body = JSON.stringify({ ...identity, id: identity.id.toString() }, null, 2) + "\n";
  await writeFile(tmp, body);
  const fh = await open(tmp, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, fileName));
}
