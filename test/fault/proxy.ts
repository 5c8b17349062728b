/**
 * The loopback fallback of Net: node i listens on 127.0.0.1:L and advertises 127.0.0.1:P, where
 * a proxy forwards to L. The proxy learns which node dialled it from the kernel (the socket of
 * the connecting port in /proc/net/tcp, and which node process holds that socket), so rules are
 * per link: a cut link has its connections destroyed and new ones held unanswered; a degraded
 * link delays every chunk by delay ± jitter. Loss and reordering cannot be made here: the proxy
 * ends one TCP connection and opens another, so it sees a byte stream its kernel has already
 * made complete and ordered; withholding or swapping bytes would corrupt that stream (a failure
 * TCP never lets through), not lose or reorder packets, which TCP repairs below the application.
 * So this mode injects delay only, and says so.
 */
import { readFile, readdir, readlink } from "node:fs/promises";
import { createServer, connect, type Server, type Socket } from "node:net";
import type { Degradation, Healing, Net } from "./net-types.js";

interface Link {
  readonly from: number;
  readonly to: number;
  readonly sockets: Socket[];
}

async function listen(server: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      resolve((server.address() as { port: number }).port);
    });
  });
}

/** A free port on 127.0.0.1 (bound then released). */
async function freePort(): Promise<number> {
  const s = createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

/** The inode of the loopback socket with local port `local` talking to port `remote`. */
async function socketInode(local: number, remote: number): Promise<string | undefined> {
  const hex = (p: number): string => p.toString(16).toUpperCase().padStart(4, "0");
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[1]?.endsWith(`:${hex(local)}`) === true && f[2]?.endsWith(`:${hex(remote)}`) === true)
        return f[9];
    }
  }
  return undefined;
}

/** Whether process `pid` holds the socket `inode`. */
async function holds(pid: number, inode: string): Promise<boolean> {
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  for (const fd of fds) {
    try {
      if ((await readlink(`/proc/${pid}/fd/${fd}`)) === `socket:[${inode}]`) return true;
    } catch {
      // The descriptor closed while we looked.
    }
  }
  return false;
}

/** The per-link loopback proxy implementation of Net. */
export class ProxyNet implements Net {
  readonly mode = "proxy" as const;
  readonly #listen: number[];
  readonly #proxy: number[];
  readonly #servers: Server[];
  readonly #pids = new Map<number, number>();
  readonly #links: Link[] = [];
  #cut = new Set<string>();
  #degradation: Degradation | undefined;

  private constructor(listenPorts: number[], proxyPorts: number[], servers: Server[]) {
    this.#listen = listenPorts;
    this.#proxy = proxyPorts;
    this.#servers = servers;
  }

  /** Starts one proxy per slot. */
  static async create(slots: number): Promise<ProxyNet> {
    const listenPorts: number[] = [];
    const proxyPorts: number[] = [];
    const servers: Server[] = [];
    const net = new ProxyNet(listenPorts, proxyPorts, servers);
    for (let i = 0; i < slots; i++) {
      listenPorts.push(await freePort());
      const server = createServer((s) => {
        void net.#accept(i, s);
      });
      servers.push(server);
      proxyPorts.push(await listen(server));
    }
    return net;
  }

  async #source(s: Socket, to: number): Promise<number> {
    const inode = await socketInode(s.remotePort ?? 0, this.#proxy[to] ?? 0);
    if (inode === undefined) return -1;
    for (const [slot, pid] of this.#pids) if (await holds(pid, inode)) return slot;
    return -1;
  }

  async #accept(to: number, s: Socket): Promise<void> {
    s.pause();
    s.on("error", () => s.destroy());
    const from = await this.#source(s, to);
    const link: Link = { from, to, sockets: [s] };
    if (this.#cut.has(`${from}>${to}`)) {
      // A partitioned link: the connection is held unanswered, as dropped packets would leave it.
      this.#links.push(link);
      return;
    }
    const up = connect(this.#listen[to] ?? 0, "127.0.0.1");
    link.sockets.push(up);
    up.on("error", () => s.destroy());
    up.on("close", () => s.destroy());
    s.on("close", () => up.destroy());
    this.#pipe(s, up);
    this.#pipe(up, s);
    this.#links.push(link);
    s.resume();
  }

  #pipe(a: Socket, b: Socket): void {
    a.on("data", (chunk: Buffer) => {
      const d = this.#degradation;
      if (d === undefined) {
        b.write(chunk);
        return;
      }
      // Order within the stream is kept: each chunk waits for the previous one.
      a.pause();
      const wait = Math.max(0, d.delayMs + (Math.random() * 2 - 1) * d.jitterMs);
      setTimeout(() => {
        b.write(chunk);
        a.resume();
      }, wait);
    });
  }

  listen(i: number): string {
    return `127.0.0.1:${this.#listen[i] ?? 0}`;
  }

  advertise(i: number): string {
    return `127.0.0.1:${this.#proxy[i] ?? 0}`;
  }

  client(i: number): string {
    return this.listen(i);
  }

  wrap(): readonly string[] {
    return [];
  }

  setPid(i: number, pid: number | undefined): void {
    if (pid === undefined) this.#pids.delete(i);
    else this.#pids.set(i, pid);
  }

  cut(a: readonly number[], b: readonly number[]): Promise<void> {
    for (const x of a) for (const y of b) if (x !== y) this.#cut.add(`${x}>${y}`).add(`${y}>${x}`);
    for (const l of this.#links)
      if (this.#cut.has(`${l.from}>${l.to}`)) for (const s of l.sockets) s.destroy();
    return Promise.resolve();
  }

  degrade(d: Degradation): Promise<string> {
    this.#degradation = d;
    return Promise.resolve(
      `proxy delay ${d.delayMs}±${d.jitterMs} ms per chunk (loss and reorder impossible inside TCP)`,
    );
  }

  heal(what: Healing = "all"): Promise<void> {
    if (what !== "cuts") this.#degradation = undefined;
    if (what === "degradation") return Promise.resolve();
    this.#cut = new Set();
    // Held connections of healed links are closed: their owners reconnect.
    for (const l of this.#links) if (l.sockets.length === 1) l.sockets[0]?.destroy();
    this.#links.splice(0, this.#links.length, ...this.#links.filter((l) => l.sockets.length > 1));
    return Promise.resolve();
  }

  async close(): Promise<void> {
    for (const l of this.#links) for (const s of l.sockets) s.destroy();
    await Promise.all(this.#servers.map((s) => new Promise((r) => s.close(r))));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
