import { spawn, type ChildProcess } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { usage } from "./exit.js";

const bin = fileURLToPath(new URL("./juraft.mjs", import.meta.url));

/**
 * `juraft local --nodes N`: a local cluster of N `juraft serve` processes on loopback. Node 0
 * bootstraps, the others join through it. Prints the endpoints; Ctrl-C stops every node cleanly.
 */
export async function local(f: {
  nodes: string;
  basePort: string;
  dataDir: string;
  logLevel: string;
}): Promise<void> {
  const n = Number(f.nodes);
  const base = Number(f.basePort);
  if (!Number.isInteger(n) || n < 1 || n > 9)
    throw usage(`local: --nodes must be 1..9, got ${JSON.stringify(f.nodes)}`);
  if (!Number.isInteger(base) || base < 1 || base + n > 65535)
    throw usage(`local: --base-port is not a valid port`);
  await mkdir(f.dataDir, { recursive: true });
  const endpoints = Array.from({ length: n }, (_, i) => `127.0.0.1:${base + i}`);
  const children: ChildProcess[] = [];
  const startOne = (i: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const args = [
        bin,
        "serve",
        "--name",
        `node-${i}`,
        "--data-dir",
        join(f.dataDir, `node-${i}`),
        "--listen",
        endpoints[i] as string,
        "--log-level",
        f.logLevel,
      ];
      if (i > 0) args.push("--join", endpoints[0] as string);
      const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
      children.push(child);
      child.stdout.setEncoding("utf8");
      let buf = "";
      child.stdout.on("data", (d: string) => {
        buf += d;
        if (buf.includes('"event":"serving"')) resolve();
        process.stdout.write(d);
      });
      child.once("exit", (code) => {
        reject(new Error(`local: node-${i} exited with status ${code ?? "signal"} before serving`));
      });
    });
  await startOne(0);
  for (let i = 1; i < n; i++) await startOne(i);
  process.stdout.write(
    `${JSON.stringify({ event: "cluster-ready", endpoints: endpoints.join(","), hint: `JURAFT_ENDPOINTS=${endpoints.join(",")} juraft status` })}\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  // Followers first, node 0 last, each given time to hand off leadership.
  for (const c of children.reverse()) {
    const exited = new Promise<void>((r) =>
      c.once("exit", () => {
        r();
      }),
    );
    c.kill("SIGTERM");
    await exited;
  }
}
