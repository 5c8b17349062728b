/**
 * The short fault suite (issue 8): real `juraft serve` processes under nemeses, both workloads
 * recorded and checked (linearizable registers, Elle-style list-append, byte-identical dumps).
 * 3 nodes in network namespaces (or proxies where namespaces are unavailable) with kill -9,
 * SIGSTOP, partitions, degraded links (netem, or the htb+u32 loss and reordering of shaper.ts),
 * membership changes and a full disk; then 5 nodes through the loopback
 * proxies (the fallback network, exercised here too) with partitions, degradation and kills.
 * `npm run fault` runs the long version.
 */
import { jest } from "@jest/globals";
import { faultRun, type RunReport } from "./run.js";

jest.setTimeout(180_000);

function expectClean(r: RunReport): void {
  const summary = {
    mode: r.mode,
    ops: r.ops,
    faults: r.faults,
    registers: r.registers.valid,
    bad: r.registers.keys.filter((k) => k.valid !== true),
    listAppend: r.listAppend,
    convergence: r.convergence,
    crashes: r.crashes,
  };
  console.log(JSON.stringify(summary));
  expect(summary.bad).toEqual([]);
  expect(r.registers.valid).toBe(true);
  expect(r.listAppend.anomalies).toEqual([]);
  expect(r.convergence.valid).toBe(true);
  // The run did work under its faults: acknowledged operations on both workloads.
  expect(r.ops.ok).toBeGreaterThan(50);
  expect(r.listAppend.stats.ok).toBeGreaterThan(10);
}

test("3 nodes: kill -9, pause, partition, degraded links, membership change, full disk", async () => {
  const nemeses = ["kill", "pause", "partition", "degrade", "membership", "disk"] as const;
  const r = await faultRun({
    nodes: 3,
    timeSec: 20,
    nemeses,
    seed: 8,
    combine: false,
    fullCycle: true,
    holdMs: [1200, 2000],
    quietMs: [300, 800],
    log: (l) => {
      console.log(l);
    },
  });
  expectClean(r);
  // Every nemesis ran at least once (the schedule cycles through the list first).
  for (const n of nemeses) expect(r.faults[n] ?? 0).toBeGreaterThan(0);
});

test("5 nodes through the loopback proxies: partitions, degraded links, kill -9", async () => {
  const r = await faultRun({
    nodes: 5,
    timeSec: 20,
    nemeses: ["partition", "degrade", "kill"],
    seed: 5,
    net: "proxy",
    fullCycle: true,
    holdMs: [1500, 2500],
    quietMs: [300, 800],
    log: (l) => {
      console.log(l);
    },
  });
  expect(r.mode).toBe("proxy");
  expectClean(r);
  for (const n of ["partition", "degrade", "kill"]) expect(r.faults[n] ?? 0).toBeGreaterThan(0);
});
