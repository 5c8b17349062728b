/**
 * A harness for tests that run real `juraft serve` processes on loopback with real RocksDB data
 * directories: start / stop / kill -9 / restart a node, wait for its serving line, find the
 * leader, run the CLI (async execFile only: a synchronous child would freeze the event loop of
 * any server living in this process), bounded polling. Every child is killed by `cleanup()`.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { JuraftClient } from "../../node/client/index.js";

/** The `juraft` entry point. */
export const JURAFT = fileURLToPath(new URL("../../node/cli/juraft.mjs", import.meta.url));

/** The environment of children: no jest VM flags, no endpoints from the caller's shell. */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  delete env.JURAFT_ENDPOINTS;
  return env;
}

/** Sleeps `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` every `everyMs` until it holds; throws naming `what` after `ms`. */
export async function until(
  what: string,
  cond: () => boolean | Promise<boolean>,
  ms = 15_000,
  everyMs = 20,
): Promise<void> {
  const deadline = Date.now() + ms;
  let lastErr: unknown;
  for (let i = 0; ; i++) {
    try {
      if (await cond()) return;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      const why = lastErr instanceof Error ? ` (last error: ${lastErr.message})` : "";
      throw new Error(`timed out after ${ms} ms (${i + 1} polls) waiting for ${what}${why}`);
    }
    await sleep(everyMs);
  }
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => {
        resolve(port);
      });
    });
  });
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => {
      resolve(false);
    });
    s.listen(port, "127.0.0.1", () => {
      s.close(() => {
        resolve(true);
      });
    });
  });
}

/** A base port such that `base .. base+n-1` are all free on 127.0.0.1 (bounded search). */
export async function freePortRange(n: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = await freePort();
    if (base + n > 65535) continue;
    let ok = true;
    for (let i = 1; i < n && ok; i++) ok = await portFree(base + i);
    if (ok) return base;
  }
  throw new Error(`no ${n} consecutive free ports found in 50 attempts`);
}

/** The line a serve process prints on stdout once it serves. */
export interface ServingLine {
  readonly event: "serving";
  readonly name: string;
  readonly id: string;
  readonly address: string;
  readonly clusterId: string;
}

function isServingLine(v: unknown): v is ServingLine {
  return (
    typeof v === "object" &&
    v !== null &&
    (v as { event?: unknown }).event === "serving" &&
    typeof (v as { id?: unknown }).id === "string"
  );
}

/** One `juraft serve` process (restartable on the same name, port and data directory). */
export class ProcNode {
  readonly name: string;
  readonly port: number;
  readonly dataDir: string;
  /** Extra serve flags (e.g. `--join`), kept across restarts. */
  args: string[];
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #serving: ServingLine | undefined;
  /** The last stderr lines (logs), for failure messages and assertions. */
  readonly stderr: string[] = [];
  /** Every stdout line. */
  readonly stdout: string[] = [];

  constructor(name: string, port: number, dataDir: string, args: string[]) {
    this.name = name;
    this.port = port;
    this.dataDir = dataDir;
    this.args = args;
  }

  /** host:port of the node. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Whether the process is running. */
  get running(): boolean {
    return this.#child !== undefined;
  }

  /** The node id from the serving line. */
  get id(): string {
    if (this.#serving === undefined) throw new Error(`node ${this.name} has not served yet`);
    return this.#serving.id;
  }

  /** The serving line of the current (or last) run. */
  get serving(): ServingLine | undefined {
    return this.#serving;
  }

  /** The process id, if running. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Spawns the process and resolves with its serving line (rejects if it exits first). */
  async start(timeoutMs = 30_000): Promise<ServingLine> {
    if (this.#child !== undefined) throw new Error(`node ${this.name} is already running`);
    const argv = [
      JURAFT,
      "serve",
      "--name",
      this.name,
      "--data-dir",
      this.dataDir,
      "--listen",
      this.address,
      "--tick-ms",
      "20",
      ...this.args,
    ];
    const child = spawn(process.execPath, argv, {
      stdio: ["ignore", "pipe", "pipe"],
      env: childEnv(),
    });
    this.#child = child;
    this.#exited = new Promise<void>((resolve) => {
      child.once("exit", () => {
        if (this.#child === child) this.#child = undefined;
        resolve();
      });
    });
    child.stderr.setEncoding("utf8");
    let errBuf = "";
    child.stderr.on("data", (d: string) => {
      errBuf += d;
      const lines = errBuf.split("\n");
      errBuf = lines.pop() ?? "";
      this.stderr.push(...lines);
      if (this.stderr.length > 2000) this.stderr.splice(0, this.stderr.length - 2000);
    });
    child.stdout.setEncoding("utf8");
    return new Promise<ServingLine>((resolve, reject) => {
      let outBuf = "";
      const timer = setTimeout(() => {
        reject(new Error(`node ${this.name} did not serve within ${timeoutMs} ms: ${this.tail()}`));
      }, timeoutMs);
      child.stdout.on("data", (d: string) => {
        outBuf += d;
        const lines = outBuf.split("\n");
        outBuf = lines.pop() ?? "";
        for (const line of lines) {
          this.stdout.push(line);
          let parsed: unknown;
          try {
            parsed = JSON.parse(line);
          } catch {
            continue;
          }
          if (isServingLine(parsed)) {
            clearTimeout(timer);
            this.#serving = parsed;
            resolve(parsed);
          }
        }
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(
          new Error(
            `node ${this.name} exited (${code ?? signal ?? "?"}) before serving: ${this.tail()}`,
          ),
        );
      });
    });
  }

  /** The last stderr lines, for error messages. */
  tail(n = 15): string {
    return this.stderr.slice(-n).join("\n");
  }

  /** SIGTERM (graceful: leadership handed off), SIGKILL if it has not exited in `ms`. */
  async stop(ms = 10_000): Promise<number | null> {
    const child = this.#child;
    if (child === undefined) return null;
    const code = new Promise<number | null>((r) =>
      child.once("exit", (c) => {
        r(c);
      }),
    );
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), ms);
    const c = await code;
    clearTimeout(timer);
    await this.#exited;
    return c;
  }

  /** `kill -9`: no chance to flush or hand anything off. */
  async kill9(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    child.kill("SIGKILL");
    await this.#exited;
  }

  /** A client talking only to this node. */
  client(timeoutMs = 10_000): JuraftClient {
    return new JuraftClient({ endpoints: [this.address], attempts: 1, timeoutMs });
  }
}

/** A set of nodes under one temp directory; `cleanup()` kills every child and removes it. */
export class Harness {
  readonly dir: string;
  readonly nodes: ProcNode[] = [];
  readonly #clients: JuraftClient[] = [];

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** A harness on a fresh temp directory. */
  static async create(prefix: string): Promise<Harness> {
    return new Harness(await mkdtemp(join(tmpdir(), `juraft-${prefix}-`)));
  }

  /** Declares a node on a free port (not started). */
  async node(name: string, args: string[] = []): Promise<ProcNode> {
    const n = new ProcNode(name, await freePort(), join(this.dir, name), args);
    this.nodes.push(n);
    return n;
  }

  /** A client on the given nodes (default: all), closed by cleanup. */
  client(nodes: readonly ProcNode[] = this.nodes, o: { timeoutMs?: number } = {}): JuraftClient {
    const c = new JuraftClient({
      endpoints: nodes.map((n) => n.address),
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    });
    this.#clients.push(c);
    return c;
  }

  /** Endpoints of running nodes, comma separated. */
  endpoints(nodes: readonly ProcNode[] = this.nodes.filter((n) => n.running)): string {
    return nodes.map((n) => n.address).join(",");
  }

  /**
   * The running node every running node agrees leads (bounded wait). Asks each node's status
   * directly, so that a dead or partitioned node cannot answer for the others.
   */
  async leader(ms = 15_000, among: readonly ProcNode[] = this.nodes): Promise<ProcNode> {
    let found: ProcNode | undefined;
    await until(
      "a leader all running nodes agree on",
      async () => {
        const live = among.filter((n) => n.running);
        const views = await Promise.all(
          live.map(async (n) => {
            const c = n.client(2000);
            try {
              return await c.status();
            } catch {
              return undefined;
            } finally {
              c.close();
            }
          }),
        );
        const leaders = new Set(views.map((v) => v?.leaderId.toString() ?? "?"));
        if (leaders.size !== 1) return false;
        const id = [...leaders][0];
        found = live.find((n) => n.serving?.id === id);
        const st = views[live.findIndex((n) => n.serving?.id === id)];
        return found !== undefined && st?.role === "leader";
      },
      ms,
      50,
    );
    if (found === undefined) throw new Error("unreachable: leader not found");
    return found;
  }

  /** Kills every child (SIGKILL), closes clients, removes the directory. */
  async cleanup(): Promise<void> {
    for (const c of this.#clients) c.close();
    await Promise.all(this.nodes.map((n) => n.kill9()));
    await rm(this.dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** What a CLI run produced. */
export interface CliResult {
  /** Exit status (null if killed by a signal). */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Non-empty stdout lines. */
  readonly lines: string[];
}

/**
 * Runs `juraft ARGS` (async: never blocks this process's event loop), with optional stdin text,
 * bounded by `timeoutMs` (then SIGKILL). `endpoints` adds the global `--endpoints` flag.
 */
export function cli(
  args: readonly string[],
  o: { endpoints?: string; stdin?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  const argv = [
    JURAFT,
    ...(o.endpoints !== undefined ? ["--endpoints", o.endpoints] : []),
    ...args,
  ];
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      argv,
      {
        env: { ...childEnv(), ...o.env },
        timeout: o.timeoutMs ?? 30_000,
        killSignal: "SIGKILL",
        maxBuffer: 64 * 1024 * 1024,
        encoding: "utf8",
      },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: unknown; signal?: NodeJS.Signals | null }) | null;
        resolve({
          code: e === null ? 0 : typeof e.code === "number" ? e.code : null,
          signal: e?.signal ?? null,
          stdout,
          stderr,
          lines: stdout.split("\n").filter((l) => l !== ""),
        });
      },
    );
    if (o.stdin !== undefined) child.stdin?.end(o.stdin);
    else child.stdin?.end();
  });
}

/** Parses each line as JSON. */
export function jsonLines(lines: readonly string[]): Record<string, unknown>[] {
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A long-running CLI child (e.g. `juraft watch`) whose stdout lines are collected. */
export class CliStream {
  readonly lines: string[] = [];
  readonly #child: ChildProcess;
  readonly #stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: readonly string[], endpoints: string) {
    this.#child = spawn(process.execPath, [JURAFT, "--endpoints", endpoints, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: childEnv(),
    });
    let buf = "";
    this.#child.stdout?.setEncoding("utf8");
    this.#child.stdout?.on("data", (d: string) => {
      buf += d;
      const parts = buf.split("\n");
      buf = parts.pop() ?? "";
      this.lines.push(...parts.filter((l) => l !== ""));
    });
    this.#child.stderr?.setEncoding("utf8");
    this.#child.stderr?.on("data", (d: string) => {
      this.#stderr.push(d);
    });
    this.exited = new Promise((resolve) => {
      this.#child.once("exit", (code, signal) => {
        resolve({ code, signal });
      });
    });
  }

  /** What the child wrote on stderr so far. */
  get stderr(): string {
    return this.#stderr.join("");
  }

  /** Sends `signal` and waits for the exit (SIGKILL after `ms`). */
  async stop(
    signal: NodeJS.Signals = "SIGINT",
    ms = 10_000,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill(signal);
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), ms);
    const r = await this.exited;
    clearTimeout(timer);
    return r;
  }
}
