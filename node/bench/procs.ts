/**
 * Child processes of a benchmark (juraft serve, etcd): free loopback ports, temp directories,
 * CPU time from /proc, and a registry that kills every child when this process exits.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const children = new Set<ChildProcess>();
let hooked = false;

function killAll(): void {
  for (const c of children) c.kill("SIGKILL");
  children.clear();
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.once("exit", killAll);
}

/** Spawns a child that is SIGKILLed when this process exits (if still running). */
export function spawnOwned(
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): ChildProcess {
  hookExit();
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env });
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** SIGTERMs `child`, SIGKILLs it after `ms`, and resolves once it exited. */
export async function stopChild(child: ChildProcess, ms = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) =>
    child.once("exit", () => {
      r();
    }),
  );
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), ms);
  await exited;
  clearTimeout(timer);
}

/** Resolves after `ms`, or rejects when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal.reason as Error);
    };
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => {
      resolve(false);
    });
    s.listen(port, "127.0.0.1", () =>
      s.close(() => {
        resolve(true);
      }),
    );
  });
}

function anyPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a !== null ? a.port : 0;
      s.close(() => {
        resolve(port);
      });
    });
  });
}

/** A base port such that base .. base+n-1 are free on 127.0.0.1 (50 attempts at most). */
export async function freePorts(n: number, signal: AbortSignal): Promise<number[]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    signal.throwIfAborted();
    const base = await anyPort();
    if (base + n > 65535) continue;
    let ok = true;
    for (let i = 1; i < n && ok; i++) ok = await portFree(base + i);
    if (ok) return Array.from({ length: n }, (_, i) => base + i);
  }
  throw new Error(`no ${n} consecutive free ports found in 50 attempts`);
}

/** User + system CPU seconds of process `pid` so far (Linux /proc; NaN when unreadable). */
export async function cpuSeconds(pid: number, signal: AbortSignal): Promise<number> {
  try {
    const s = await readFile(`/proc/${pid}/stat`, { encoding: "utf8", signal });
    const rest = s.slice(s.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 of stat(5), in clock ticks (USER_HZ, 100 on Linux).
    return (Number(rest[11]) + Number(rest[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** The load generator's own CPU seconds so far. */
export function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Resolves once `child` printed a stdout/stderr chunk matching `re`; rejects on exit or timeout. */
export function waitForOutput(
  child: ChildProcess,
  re: RegExp,
  what: string,
  ms: number,
  signal: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const done = (err?: Error): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      child.stdout?.off("data", onData);
      child.stderr?.off("data", onData);
      child.off("exit", onExit);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onData = (d: Buffer): void => {
      buf = (buf + d.toString("utf8")).slice(-65536);
      if (re.test(buf)) done();
    };
    const onExit = (): void => {
      done(new Error(`${what} exited before it was ready: ${buf.slice(-2000)}`));
    };
    const onAbort = (): void => {
      done(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      done(new Error(`${what} not ready within ${ms} ms`));
    }, ms);
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", onExit);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Keeps reading a child's output so that its pipes never fill (the last 64 KiB are kept). */
export function drain(child: ChildProcess): () => string {
  let tail = "";
  const on = (d: Buffer): void => {
    tail = (tail + d.toString("utf8")).slice(-65536);
  };
  child.stdout?.on("data", on);
  child.stderr?.on("data", on);
  return () => tail;
}

/**
 * The server processes a target started itself, with their temp directory: what both the
 * juraft and the etcd targets own and must clean up. `none` is a target on existing endpoints.
 */
export class LocalProcs {
  readonly dir: string | undefined;
  readonly children: readonly ChildProcess[];

  private constructor(dir: string | undefined, children: readonly ChildProcess[]) {
    this.dir = dir;
    this.children = children;
  }

  /** No processes (a target on existing endpoints). */
  static readonly none = new LocalProcs(undefined, []);

  /**
   * Makes a temp directory and lets `spawnAll` start processes into `children`; if it throws,
   * every process started so far is stopped and the directory removed.
   */
  static async start(
    prefix: string,
    spawnAll: (dir: string, children: ChildProcess[]) => Promise<void>,
  ): Promise<LocalProcs> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    const children: ChildProcess[] = [];
    try {
      await spawnAll(dir, children);
      return new LocalProcs(dir, children);
    } catch (err) {
      await new LocalProcs(dir, children).stop();
      throw err;
    }
  }

  /** The processes as the report names them (`<namePrefix>-<i>`). */
  servers(namePrefix: string): { name: string; pid: number }[] {
    const out: { name: string; pid: number }[] = [];
    for (const [i, c] of this.children.entries()) {
      if (c.pid !== undefined) out.push({ name: `${namePrefix}-${i}`, pid: c.pid });
    }
    return out;
  }

  /** Stops every process and removes the directory. */
  async stop(): Promise<void> {
    await Promise.all(this.children.map((c) => stopChild(c)));
    if (this.dir !== undefined) await rm(this.dir, { recursive: true, force: true });
  }
}
