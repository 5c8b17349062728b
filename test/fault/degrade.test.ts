/**
 * The degraded links of the fault suite without netem (this kernel has none): the htb+u32
 * substitute of shaper.ts, proved by the kernel's own counters while a TCP connection crosses
 * it from one node's namespace to another's: the drop class dropped packets and the sender's
 * TCP sent them again (TcpRetransSegs); the slow class held packets and later ones overtook
 * them: the receiver queued segments out of order (TCPOFOQueue) and the sender learned of
 * reordering, either as such (TCPSACKReorder, TCPTSReorder, TCPRenoReorder) or, as mostly
 * happens at veth round trips of ~0.1 ms where RACK declares a held segment lost long before it
 * arrives, as a duplicate: the receiver got a segment twice (DSACK, TCPDSACKRecv), which a
 * dropped segment cannot cause, only one that was late. Every byte still arrived, in order.
 */
import { jest } from "@jest/globals";
import { spawn, type ChildProcess } from "node:child_process";
import { run } from "./exec.js";
import { netnsAvailable, sweepStale } from "./net.js";
import { NetnsNet } from "./netns.js";
import { parseShapedCounts } from "./shaper.js";

jest.setTimeout(90_000);

/** The kernel's TCP counters in a namespace (`nstat -asz`: absolute, zeros too, no history). */
async function counters(wrap: readonly string[]): Promise<Map<string, number>> {
  const out = await run("ip", [...wrap.slice(1), "nstat", "-asz"]);
  const m = new Map<string, number>();
  for (const line of out.split("\n")) {
    const [name, value] = line.trim().split(/\s+/);
    if (name !== undefined && value !== undefined && !name.startsWith("#"))
      m.set(name, Number(value));
  }
  return m;
}

// Receiver: listens on a kernel port (printed), checks that the bytes come in order (the
// pattern repeats every 7 bytes), prints what it got when the sender ends.
const receiver =
  "const p = 'juraft '; let n = 0, ok = true;" +
  "const s = require('net').createServer((c) => {" +
  " c.on('data', (d) => { for (let i = 0; i < d.length; i++)" +
  "   if (d[i] !== p.charCodeAt((n + i) % 7)) ok = false; n += d.length; });" +
  " c.on('end', () => { console.log(JSON.stringify({ received: n, inOrder: ok })); s.close(); });" +
  "});" +
  "s.listen(0, process.argv[1], () => console.log(s.address().port));";
const sender =
  "const c = require('net').connect(+process.argv[2], process.argv[1], () => {" +
  " c.end(Buffer.alloc(+process.argv[3], 'juraft ')); });";

/** Runs a node script in a namespace; resolves with its stdout lines as they come. */
function spawnIn(wrap: readonly string[], script: string, args: readonly string[]): ChildProcess {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const [cmd = "ip", ...rest] = [...wrap, process.execPath, "-e", script, ...args];
  return spawn(cmd, rest, { stdio: ["ignore", "pipe", "pipe"], env });
}

/** The next `n` stdout lines of a child (bounded in time), or why they did not come. */
function lines(child: ChildProcess, n: number, timeoutMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const timer = setTimeout(() => {
      reject(new Error(`no output within ${timeoutMs} ms: ${out} ${err}`));
    }, timeoutMs);
    child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const got = out.split("\n").filter((l) => l !== "");
      if (got.length >= n) {
        clearTimeout(timer);
        resolve(got);
      }
    });
    child.on("exit", (code) => {
      if (code !== 0) reject(new Error(`exited ${code}: ${err.trim()}`));
    });
  });
}

test("htb+u32 between two namespaces: TCP sees loss and reordering (kernel counters)", async () => {
  await sweepStale();
  const prefix = `jrf-${process.pid}-d`;
  if (!(await netnsAvailable(prefix))) {
    console.log("skipped: network namespaces are unavailable here (needs root and iproute2)");
    return;
  }
  await using net = await NetnsNet.create(2, prefix);
  const how = await net.degrade(
    { delayMs: 40, jitterMs: 30, lossPct: 10, reorderPct: 20 },
    { netem: false },
  );
  console.log(`applied: ${how}`);
  expect(how).toMatch(/^htb\+u32/);

  const bytes = 512 * 1024;
  const host = net.listen(0).split(":")[0] ?? "";
  const children: ChildProcess[] = [];
  try {
    const rx = spawnIn(net.wrap(0), receiver, [host]);
    children.push(rx);
    const rxLines = lines(rx, 2, 60_000);
    const port = await lines(rx, 1, 10_000);
    const before = await counters(net.wrap(1));
    const rxBefore = await counters(net.wrap(0));
    const tx = spawnIn(net.wrap(1), sender, [host, port[0] ?? "", String(bytes)]);
    children.push(tx);
    const got = JSON.parse((await rxLines)[1] ?? "") as { received: number; inOrder: boolean };
    const after = await counters(net.wrap(1));
    const rxAfter = await counters(net.wrap(0));
    const delta = (name: string): number => (after.get(name) ?? 0) - (before.get(name) ?? 0);
    const reorder = [
      "TcpExtTCPSACKReorder",
      "TcpExtTCPTSReorder",
      "TcpExtTCPRenoReorder",
      "TcpExtTCPDSACKRecv",
    ];
    const ofo = (rxAfter.get("TcpExtTCPOFOQueue") ?? 0) - (rxBefore.get("TcpExtTCPOFOQueue") ?? 0);
    const shaped = parseShapedCounts(await net.shapedStats(0));
    const seen = {
      ...got,
      retransSegs: delta("TcpRetransSegs"),
      lostRetransmit: delta("TcpExtTCPLostRetransmit"),
      reorder: Object.fromEntries(reorder.map((n) => [n, delta(n)])),
      receiverOfoQueue: ofo,
      shaped,
    };
    console.log(JSON.stringify(seen));
    expect(got).toEqual({ received: bytes, inOrder: true });
    expect(shaped?.dropped ?? 0).toBeGreaterThan(0); // the drop class dropped packets
    expect(shaped?.held ?? 0).toBeGreaterThan(0); // the slow class held some
    expect(seen.retransSegs).toBeGreaterThan(0); // TCP saw them lost and sent them again
    expect(ofo).toBeGreaterThan(0); // segments arrived out of order
    expect(reorder.reduce((s, n) => s + delta(n), 0)).toBeGreaterThan(0); // and late, not lost
    await net.heal();
    expect(parseShapedCounts(await net.shapedStats(0))).toBeUndefined();
  } finally {
    for (const c of children) c.kill("SIGKILL");
  }
});
