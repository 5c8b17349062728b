/**
 * An SVG chart of benchmark results, self-contained (no scripts, no external fonts): on the left
 * throughput by concurrency, one line per target; on the right the latency distribution
 * (percentile curves, log scale) of each target at the highest concurrency measured.
 */
import type { RunResult } from "./driver.js";
import { rate } from "./report.js";

const COLORS: Record<string, string> = { juraft: "#1f77b4", etcd: "#d62728" };
const W = 480;
const H = 320;
const M = { l: 64, r: 16, t: 40, b: 48 };

const esc = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const color = (t: string): string => COLORS[t] ?? "#2ca02c";
const num = (v: number): string =>
  v === 0 ? "0" : v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(2);

function frame(x0: number, title: string, xLabel: string, yLabel: string): string[] {
  const ph = H - M.t - M.b;
  return [
    `<text x="${x0 + W / 2}" y="22" text-anchor="middle" font-weight="bold">${esc(title)}</text>`,
    `<line x1="${x0 + M.l}" y1="${H - M.b}" x2="${x0 + W - M.r}" y2="${H - M.b}" stroke="#333"/>`,
    `<line x1="${x0 + M.l}" y1="${M.t}" x2="${x0 + M.l}" y2="${H - M.b}" stroke="#333"/>`,
    `<text x="${x0 + W / 2}" y="${H - 10}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text transform="translate(${x0 + 16},${M.t + ph / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
  ];
}

function throughputPanel(results: readonly RunResult[], targets: readonly string[]): string[] {
  const levels = [...new Set(results.map((r) => r.clients))].sort((a, b) => a - b);
  const maxY = Math.max(1, ...results.map(rate)) * 1.1;
  const pw = W - M.l - M.r;
  const ph = H - M.t - M.b;
  const x = (i: number): number =>
    M.l + (levels.length === 1 ? pw / 2 : (i * pw) / (levels.length - 1));
  const y = (v: number): number => M.t + ph - (v / maxY) * ph;
  const out = frame(0, "Throughput by concurrency", "clients", "ops/s");
  for (let k = 0; k <= 4; k++) {
    const v = (maxY * k) / 4;
    out.push(`<line x1="${M.l}" y1="${y(v)}" x2="${W - M.r}" y2="${y(v)}" stroke="#eee"/>`);
    out.push(`<text x="${M.l - 6}" y="${y(v) + 4}" text-anchor="end">${num(v)}</text>`);
  }
  for (const [i, c] of levels.entries())
    out.push(`<text x="${x(i)}" y="${H - M.b + 18}" text-anchor="middle">${c}</text>`);
  for (const t of targets) {
    const pts = levels.flatMap((c, i) => {
      const r = results.find((q) => q.target === t && q.clients === c);
      return r === undefined ? [] : [[x(i), y(rate(r)), rate(r)] as const];
    });
    out.push(
      `<polyline fill="none" stroke="${color(t)}" stroke-width="2" points="${pts.map(([px, py]) => `${px},${py}`).join(" ")}"/>`,
    );
    for (const [px, py, v] of pts)
      out.push(
        `<circle cx="${px}" cy="${py}" r="4" fill="${color(t)}"><title>${t}: ${v.toFixed(0)} ops/s</title></circle>`,
      );
  }
  return out;
}

const QUANTILES = [0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1] as const;

function latencyPanel(results: readonly RunResult[], targets: readonly string[]): string[] {
  const top = Math.max(...results.map((r) => r.clients));
  const chosen = targets.flatMap((t) => results.filter((r) => r.target === t && r.clients === top));
  const valMs = (r: RunResult, q: number): number => Math.max(0.01, r.hist.percentile(q) / 1000);
  const all = chosen.flatMap((r) => QUANTILES.map((q) => valMs(r, q)));
  const lo = Math.floor(Math.log10(Math.min(...all, 1)));
  const hi = Math.ceil(Math.log10(Math.max(...all, 10)));
  const pw = W - M.l - M.r;
  const ph = H - M.t - M.b;
  const x = (i: number): number => W + M.l + (i * pw) / (QUANTILES.length - 1);
  const y = (v: number): number => M.t + ph - ((Math.log10(v) - lo) / Math.max(1, hi - lo)) * ph;
  const out = frame(W, `Latency distribution at ${top} clients`, "percentile", "ms (log)");
  for (let e = lo; e <= hi; e++) {
    const v = 10 ** e;
    out.push(`<line x1="${W + M.l}" y1="${y(v)}" x2="${2 * W - M.r}" y2="${y(v)}" stroke="#eee"/>`);
    out.push(`<text x="${W + M.l - 6}" y="${y(v) + 4}" text-anchor="end">${num(v)}</text>`);
  }
  for (const [i, q] of QUANTILES.entries())
    out.push(
      `<text x="${x(i)}" y="${H - M.b + 18}" text-anchor="middle">${q === 1 ? "max" : `p${q * 100}`}</text>`,
    );
  for (const r of chosen) {
    const pts = QUANTILES.map((q, i) => [x(i), y(valMs(r, q)), valMs(r, q)] as const);
    out.push(
      `<polyline fill="none" stroke="${color(r.target)}" stroke-width="2" points="${pts.map(([px, py]) => `${px},${py}`).join(" ")}"/>`,
    );
    for (const [px, py, v] of pts)
      out.push(
        `<circle cx="${px}" cy="${py}" r="3" fill="${color(r.target)}"><title>${r.target}: ${v.toFixed(2)} ms</title></circle>`,
      );
  }
  return out;
}

/** The chart of one workload's results (juraft vs etcd when both are present) as an SVG file. */
export function chart(results: readonly RunResult[], caption: string): string {
  const targets = [...new Set(results.map((r) => r.target))];
  const legend = targets.map(
    (t, i) =>
      `<rect x="${M.l + i * 110}" y="${H + 8}" width="14" height="14" fill="${color(t)}"/>` +
      `<text x="${M.l + i * 110 + 20}" y="${H + 20}">${esc(t)}</text>`,
  );
  const body =
    results.length === 0
      ? [`<text x="20" y="40">no results</text>`]
      : [...throughputPanel(results, targets), ...latencyPanel(results, targets)];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${H + 56}" viewBox="0 0 ${2 * W} ${H + 56}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...body,
    ...legend,
    `<text x="${2 * W - M.r}" y="${H + 20}" text-anchor="end" fill="#555">${esc(caption)}</text>`,
    `</svg>`,
    "",
  ].join("\n");
}
