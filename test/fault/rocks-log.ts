/**
 * Reads a node's RocksDB LOG (its `EVENT_LOG_v1` lines: flush and compaction jobs with their
 * start and end) from outside the process, so that a crash point can kill -9 while RocksDB
 * compacts and say afterwards whether the compaction had finished.
 */
import { open, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { sleep } from "./cluster.js";

/** A compaction job seen in the LOG. */
export interface CompactionJob {
  readonly job: number;
  readonly reason: string;
}

/** The LOG of the RocksDB database of data directory `dataDir` (juraft keeps it in `raft/`). */
export const rocksLogPath = (dataDir: string): string => join(dataDir, "raft", "LOG");

/** Reads what was appended to a file since the last call (from where it was at creation). */
export class LogTail implements AsyncDisposable {
  readonly #fh: FileHandle;
  #pos: number;
  /** Everything read so far. */
  text = "";

  private constructor(fh: FileHandle, pos: number) {
    this.#fh = fh;
    this.#pos = pos;
  }

  /** Opens `path` and starts at its current end. */
  static async at(path: string): Promise<LogTail> {
    const fh = await open(path, "r");
    return new LogTail(fh, (await fh.stat()).size);
  }

  /** Reads what was appended; returns it. */
  async read(): Promise<string> {
    const buf = Buffer.alloc(1 << 16);
    let out = "";
    for (let i = 0; i < 1000; i++) {
      const { bytesRead } = await this.#fh.read(buf, 0, buf.length, this.#pos);
      if (bytesRead === 0) break;
      this.#pos += bytesRead;
      out += buf.toString("utf8", 0, bytesRead);
    }
    this.text += out;
    return out;
  }

  /**
   * Polls (every `everyMs`, at most `timeoutMs`) until a compaction job starts (manual, or one
   * RocksDB chose); returns the first one, or undefined at the timeout.
   */
  async waitCompaction(timeoutMs: number, everyMs = 1): Promise<CompactionJob | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      await this.read();
      const j = compactionsStarted(this.text)[0];
      if (j !== undefined) return j;
      await sleep(everyMs);
    }
    return undefined;
  }

  close(): Promise<void> {
    return this.#fh.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** The compaction jobs started in `log` (RocksDB's EVENT_LOG_v1 "compaction_started"). */
export function compactionsStarted(log: string): CompactionJob[] {
  const out: CompactionJob[] = [];
  for (const m of log.matchAll(
    /"job": (\d+), "event": "compaction_started", "compaction_reason": "(\w+)"/g,
  ))
    out.push({ job: Number(m[1]), reason: m[2] ?? "" });
  return out;
}

/** Whether `log` records the end of compaction job `job`. */
export const compactionFinished = (log: string, job: number): boolean =>
  log.includes(`"job": ${job}, "event": "compaction_finished"`);
