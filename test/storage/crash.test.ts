/**
 * kill -9: a child process appends in synced batches and reports each acknowledged operation;
 * the parent kills it at a random moment, reopens the directory and checks that the log is
 * exactly the state after the last acknowledged operation or after the one in flight (batches
 * are atomic), so every acknowledged entry is there with the right bytes. The rounds continue
 * on the same directory, so recovery from a crash is itself crashed into.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { HardState } from "../../node/raft/index.js";
import { RocksStorage } from "../../node/storage/index.js";
import { payload, tempDirs } from "./helpers.js";

const dirs = tempDirs("crash");
afterAll(() => dirs.cleanup());

const fixture = fileURLToPath(new URL("./fixtures/append-loop.ts", import.meta.url));
const rounds = 6;

type Op =
  | { kind: "append"; first: number; count: number; term: number; commit: number }
  | { kind: "snap"; index: number; term: number }
  | { kind: "compact"; index: number };

/** What the log must hold; `terms` keeps compacted entries too (a lost compaction returns them). */
interface Model {
  terms: Map<number, number>;
  last: number;
  hardState: HardState;
  snap: number;
  start: number;
  /** Log starts the disk may show: every compaction point (an unsynced one may be lost). */
  starts: Set<number>;
}

function clone(m: Model): Model {
  return { ...m, terms: new Map(m.terms), starts: new Set(m.starts) };
}

function apply(m: Model, op: Op): void {
  if (op.kind === "append") {
    for (let i = op.first + op.count; i <= m.last; i++) m.terms.delete(i);
    for (let i = op.first; i < op.first + op.count; i++) m.terms.set(i, op.term);
    m.last = op.first + op.count - 1;
    m.hardState = { term: op.term, vote: 1n, commit: op.commit };
  } else if (op.kind === "snap") {
    m.snap = op.index;
  } else {
    m.start = op.index;
    m.starts.add(op.index);
  }
}

function parseOp(words: string[]): Op {
  const [kind, ...rest] = words;
  const [a = NaN, b = NaN, c = NaN, d = NaN] = rest.map(Number);
  if (kind === "append") return { kind, first: a, count: b, term: c, commit: d };
  if (kind === "snap") return { kind, index: a, term: b };
  if (kind === "compact") return { kind, index: a };
  throw new Error(`unknown op line: ${words.join(" ")}`);
}

/** Returns why `s` differs from `m`, or undefined if it matches. */
function mismatch(s: RocksStorage, m: Model): string | undefined {
  if (s.lastIndex() !== m.last) return `last index ${s.lastIndex()}, expected ${m.last}`;
  const hs = s.hardState();
  if (hs.term !== m.hardState.term || hs.commit !== m.hardState.commit) {
    return `hard state ${hs.term}/${hs.commit}, expected ${m.hardState.term}/${m.hardState.commit}`;
  }
  if (s.snapshot().metadata.index !== m.snap) return `snapshot ${s.snapshot().metadata.index}`;
  const start = s.firstIndex() - 1;
  if (start > m.start || !m.starts.has(start)) return `log start ${start}, expected ${m.start}`;
  for (const e of s.entries(s.firstIndex(), s.lastIndex() + 1, Infinity)) {
    const term = m.terms.get(e.index);
    if (e.term !== term) return `entry ${e.index} has term ${e.term}, expected ${term}`;
    if (e.type !== "normal" || !Buffer.from(e.data).equals(payload(e.index, e.term))) {
      return `entry ${e.index} has the wrong bytes`;
    }
  }
  return undefined;
}

/** Runs the child until a random moment after its first acknowledgment, then SIGKILLs it. */
async function runAndKill(dir: string, seed: number): Promise<string[]> {
  const child = spawn(process.execPath, ["--import", "tsx", fixture, dir, String(seed)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  let timer: NodeJS.Timeout | undefined;
  const killAfter = Math.floor(Math.random() * 400);
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
    if (timer === undefined && out.includes("ack ")) {
      timer = setTimeout(() => child.kill("SIGKILL"), killAfter);
    }
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
  // Bounded: a child that never acknowledges is killed after 20 s and fails the test below.
  const guard = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.on("exit", (c, s) => {
      resolve([c, s]);
    });
  });
  clearTimeout(guard);
  if (timer !== undefined) clearTimeout(timer);
  if (signal !== "SIGKILL" || timer === undefined) {
    throw new Error(`child exited with ${code ?? signal} before the kill:\n${err}`);
  }
  // Only complete lines: a line is one write, but keep the check honest.
  return out.split("\n").slice(0, -1);
}

test("kill -9 at random moments loses no acknowledged write", async () => {
  const dir = await dirs.make();
  let base: Model = {
    terms: new Map(),
    last: 0,
    hardState: { term: 0, vote: 0n, commit: 0 },
    snap: 0,
    start: 0,
    starts: new Set([0]),
  };
  const report: string[] = [];
  for (let round = 1; round <= rounds; round++) {
    const seed = Math.floor(Math.random() * 2 ** 31);
    const lines = await runAndKill(dir, seed);
    const ops = new Map<number, Op>();
    let acked = 0;
    let syncedAck = 0;
    for (const line of lines) {
      const [tag, n, ...rest] = line.split(" ");
      if (tag === "op") ops.set(Number(n), parseOp(rest));
      else if (tag === "ack") {
        acked = Number(n);
        if (ops.get(acked)?.kind !== "compact") syncedAck = acked;
      }
    }
    const started = ops.size;
    // The disk must equal the model after some op k in [last synced ack, last started].
    const model = clone(base);
    for (let n = 1; n <= syncedAck; n++) apply(model, ops.get(n) as Op);
    const candidates: Model[] = [clone(model)];
    for (let n = syncedAck + 1; n <= started; n++) {
      apply(model, ops.get(n) as Op);
      candidates.push(clone(model));
    }
    const s = await RocksStorage.open(dir);
    const reasons = candidates.map((m) => mismatch(s, m));
    const k = reasons.findIndex((r) => r === undefined);
    const msg = `round ${round} (seed ${seed}): ${acked} acked, ${started} started, disk: ${reasons.join(" | ")}`;
    expect(k >= 0 ? "ok" : msg).toBe("ok");
    base = candidates[k] as Model;
    // A compaction the crash lost leaves the log starting earlier: carry the disk's start.
    base.start = s.firstIndex() - 1;
    for (const p of base.starts) if (p > base.start) base.starts.delete(p);
    report.push(
      `round ${round}: ${acked} ops acked, log [${s.firstIndex()}, ${s.lastIndex()}], state after op ${syncedAck + k}`,
    );
    await s.close();
  }
  console.log(report.join("\n"));
}, 120_000);
