import { jest } from "@jest/globals";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDuration } from "../../node/bench/bench-command.js";
import type { RunResult } from "../../node/bench/driver.js";
import { Histogram } from "../../node/bench/histogram.js";
import { ratios, table } from "../../node/bench/report.js";
import { chart } from "../../node/bench/svg.js";
import { cli } from "../process/harness.js";

jest.setTimeout(60_000);

function fake(target: string, clients: number, ops: number, us: number[]): RunResult {
  const hist = new Histogram();
  for (const v of us) hist.record(v);
  return {
    target,
    workload: "cas",
    clients,
    ops,
    aborts: 1,
    errors: 0,
    elapsedS: 1,
    hist,
    serverCpuS: [{ name: "n0", seconds: 0.5 }],
    loadGenCpuS: 0.25,
    firstError: undefined,
  };
}

test("durations parse", () => {
  expect(parseDuration("20s")).toBe(20_000);
  expect(parseDuration("500ms")).toBe(500);
  expect(parseDuration("2m")).toBe(120_000);
  expect(parseDuration("3")).toBe(3000);
  expect(() => parseDuration("soon")).toThrow(/cannot parse/);
});

test("table, ratios and the SVG chart cover both targets", () => {
  const results = [1, 16].flatMap((c) => [
    fake("juraft", c, 300 * c, [1000, 2000, 9000]),
    fake("etcd", c, 200 * c, [1500, 2500, 8000]),
  ]);
  const t = table(results);
  expect(t.split("\n")).toHaveLength(5);
  expect(t).toMatch(/ops\/s.*p99\.9 ms.*server CPU s.*loadgen CPU s/);
  expect(ratios(results)[1]).toMatch(
    /^cas @ 16 clients: juraft\/etcd throughput 1\.50x, p99 9\.0\d ms/,
  );
  const svg = chart(results, "juraft bench --compare <&>");
  expect(svg.startsWith("<svg xmlns=")).toBe(true);
  expect(svg).toContain("&lt;&amp;&gt;");
  expect(svg.match(/<polyline/g)).toHaveLength(4);
  // Every opened element is closed or self-closed: crude well-formedness.
  const opened = svg.match(/<(svg|text|circle|title)[\s>]/g)?.length ?? 0;
  const closed = svg.match(/<\/(svg|text|circle|title)>/g)?.length ?? 0;
  expect(closed).toBe(opened);
});

test("juraft bench runs end to end and writes JSON and SVG; bad flags are usage errors", async () => {
  const dir = await mkdtemp(join(tmpdir(), "bench-cli-"));
  try {
    const json = join(dir, "r.json");
    const svg = join(dir, "r.svg");
    const args = ["bench", "--local", "1", "--workload", "insert", "--clients", "2"];
    args.push("--count", "20", "--rounds", "1", "--json", json, "--svg", svg, "--warmup", "300ms");
    const r = await cli(args, { timeoutMs: 50_000 });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.lines[0]).toMatch(/^target\s+workload\s+clients\s+ops\/s/);
    expect(r.lines[1]).toMatch(/^juraft\s+insert\s+2\s+\d+/);
    const doc = JSON.parse(await readFile(json, "utf8")) as {
      results: { ops: number; errors: number; target: string }[];
      warmup: { target: string; ms: number; ops: number }[];
    };
    // The warm-up ran first and its operations are not in the result.
    expect(doc.results.map((x) => [x.target, x.ops, x.errors])).toEqual([["juraft", 20, 0]]);
    expect(doc.warmup.map((w) => [w.target, w.ms])).toEqual([["juraft", 300]]);
    expect(doc.warmup[0]?.ops).toBeGreaterThan(0);
    expect(await readFile(svg, "utf8")).toContain("Throughput by concurrency");
    const bad = await cli(["bench", "--workload", "nope"], { timeoutMs: 20_000 });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--workload must be one of/);
    const badWarmup = await cli(["bench", "--warmup", "soon"], { timeoutMs: 20_000 });
    expect(badWarmup.code).toBe(2);
    expect(badWarmup.stderr).toMatch(/--warmup: cannot parse "soon"/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
