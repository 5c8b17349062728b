/**
 * `npx tsx node/bench/storage-bench.ts`: saves per second into RocksStorage with 1, 10 and 100
 * entries of 256 bytes per save (one RocksDB batch each), synced as a Ready with mustSync is,
 * plus an unsynced row for comparison. Each row runs for about BENCH_SECONDS (default 2) in a
 * fresh temp directory, removed afterwards. The event loop's max timer gap during the synced
 * rows shows that writes do not block it.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Entry } from "../raft/index.js";
import { RocksStorage } from "../storage/index.js";

const entryBytes = 256;
const seconds = Number(process.env.BENCH_SECONDS ?? 2);

async function measure(batch: number, sync: boolean): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "juraft-bench-"));
  const s = await RocksStorage.open(dir);
  const data = new Uint8Array(entryBytes).fill(7);
  let maxGap = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 1);
  let index = 0;
  let saves = 0;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  while (performance.now() < deadline) {
    const entries: Entry[] = [];
    for (let i = 0; i < batch; i++) entries.push({ type: "normal", term: 1, index: ++index, data });
    await s.save({ hardState: { term: 1, vote: 1n, commit: index }, entries }, { sync });
    saves++;
    // Keep the in-memory log bounded, as a node compacting after snapshots does.
    if (index - s.firstIndex() > 100_000) {
      await s.recordSnapshot({ index, term: 1, confState: s.initialState().confState });
      await s.compact(index);
    }
  }
  const elapsed = (performance.now() - t0) / 1000;
  clearInterval(timer);
  await s.close();
  await rm(dir, { recursive: true, force: true });
  const perSave = ((elapsed * 1000) / saves).toFixed(3);
  return `${String(batch).padStart(3)} entries/save, ${sync ? "synced  " : "unsynced"}: ${Math.round(saves / elapsed)} saves/s (${Math.round((saves * batch) / elapsed)} entries/s, ${perSave} ms/save, max timer gap ${maxGap.toFixed(1)} ms)`;
}

console.log(`RocksStorage.save: ${entryBytes}-byte entries, ${seconds} s per row`);
for (const batch of [1, 10, 100]) console.log(await measure(batch, true));
console.log(await measure(10, false));
