/** Shared fixtures of the storage tests: temp directories and entry builders. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Entry } from "../../node/raft/index.js";

/** Creates a fresh temp directory; `cleanup()` removes every directory made so far. */
export function tempDirs(prefix: string): {
  make: () => Promise<string>;
  cleanup: () => Promise<void>;
} {
  const made: string[] = [];
  return {
    make: async () => {
      const dir = await mkdtemp(join(tmpdir(), `juraft-${prefix}-`));
      made.push(dir);
      return dir;
    },
    cleanup: async () => {
      await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
    },
  };
}

/** The deterministic payload of entry (`index`, `term`): its own numbers plus a filler. */
export function payload(index: number, term: number, size = 16 + (index % 64)): Uint8Array {
  const b = Buffer.alloc(size);
  b.writeUInt32BE(index, 0);
  b.writeUInt32BE(term, 4);
  for (let i = 8; i < size; i++) b[i] = (index * 31 + term * 7 + i) & 0xff;
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/** Returns normal entries `from..to` (inclusive) at `term` with {@link payload} data. */
export function ents(from: number, to: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++)
    out.push({ type: "normal", term, index: i, data: payload(i, term) });
  return out;
}

/** Returns a conf change entry adding `nodeId` with an opaque context. */
export function confEntry(index: number, term: number, nodeId: bigint): Entry {
  return {
    type: "confChange",
    term,
    index,
    change: {
      transition: "auto",
      changes: [{ type: "addNode", nodeId }],
      context: new TextEncoder().encode(`node-${nodeId}`),
    },
  };
}

/** Normalizes entries for equality checks (Buffers and Uint8Arrays compare as plain bytes). */
export function plain(es: readonly Entry[]): unknown[] {
  return es.map((e) =>
    e.type === "normal"
      ? { ...e, data: Array.from(e.data) }
      : { ...e, change: { ...e.change, context: Array.from(e.change.context) } },
  );
}
