import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JuraftNode, type NodeOptions } from "../../node/server/juraft-node.js";
import { discardLogger } from "../../node/raft/index.js";

/** Returns a free TCP port on 127.0.0.1. */
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

/** A temp directory removed by `cleanup`. */
export async function tempDir(
  prefix: string,
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Starts an in-process node on a free loopback port with fast ticks. */
export async function startNode(
  dir: string,
  name: string,
  extra: Partial<NodeOptions> = {},
): Promise<JuraftNode> {
  const port = await freePort();
  return JuraftNode.start({
    dataDir: join(dir, name),
    name,
    listenHost: "127.0.0.1",
    listenPort: port,
    tickMs: 20,
    electionTick: 10,
    logger: discardLogger,
    ...extra,
  });
}

/** Polls `cond` every 10 ms until it holds or `ms` pass. */
export async function until(
  what: string,
  cond: () => boolean | Promise<boolean>,
  ms = 10_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
