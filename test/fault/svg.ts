/**
 * A timeline picture of a run: faults as labelled bands on top, then one row per client process
 * with each operation drawn from invoke to completion, coloured by outcome (ok green, fail red,
 * info orange: indeterminate, drawn to the end of the run).
 */
import { pairOperations, type HistoryEvent } from "./history.js";
import type { FaultRecord } from "./recorder.js";

const esc = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const COLORS: Record<string, string> = { ok: "#3a3", fail: "#d33", info: "#f90", invoke: "#999" };
const FAULT_COLORS = ["#8bd", "#db8", "#bd8", "#d8b", "#8db", "#b8d", "#ccc"];

/** Renders the timeline of `history` and `faults` as an SVG document. */
export function timelineSvg(
  history: readonly HistoryEvent[],
  faults: readonly FaultRecord[],
  title: string,
): string {
  const ops = pairOperations(history);
  const end = Math.max(1, ...history.map((e) => e.time), ...faults.map((f) => f.end ?? f.start));
  const procs = [...new Set(history.map((e) => e.process))].sort((a, b) => a - b);
  const row = new Map(procs.map((p, i) => [p, i]));
  const kinds = [...new Set(faults.map((f) => f.kind))];
  const width = 1400;
  const left = 60;
  const x = (t: number): number => left + ((width - left - 10) * t) / end;
  const faultH = 14 * Math.max(1, kinds.length);
  const top = 40 + faultH + 10;
  const rowH = 10;
  const height = top + rowH * procs.length + 30;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="10">`,
    `<text x="${left}" y="16" font-size="13">${esc(title)}</text>`,
    `<text x="${left}" y="30">faults (top), then one row per client process; ok green, fail red, info orange; ${Math.round(end / 1000)} s</text>`,
  ];
  faults.forEach((f) => {
    const k = kinds.indexOf(f.kind);
    const y = 40 + 14 * k;
    const x0 = x(f.start);
    const w = Math.max(1, x(f.end ?? end) - x0);
    out.push(
      `<rect x="${x0.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="12" fill="${FAULT_COLORS[k % FAULT_COLORS.length] ?? "#ccc"}"><title>${esc(`${f.kind} ${f.detail} [${f.start}..${f.end ?? "end"} ms]`)}</title></rect>`,
    );
  });
  kinds.forEach((k, i) => out.push(`<text x="2" y="${50 + 14 * i}">${esc(k)}</text>`));
  for (const o of ops) {
    const r = row.get(o.invoke.process) ?? 0;
    const t1 = o.complete.type === "info" ? end : o.complete.time;
    const x0 = x(o.invoke.time);
    const w = Math.max(0.6, x(t1) - x0);
    out.push(
      `<rect x="${x0.toFixed(1)}" y="${top + r * rowH}" width="${w.toFixed(1)}" height="${rowH - 2}" fill="${COLORS[o.complete.type] ?? "#999"}"/>`,
    );
  }
  procs.forEach((p, i) => out.push(`<text x="2" y="${top + i * rowH + 8}">p${p}</text>`));
  out.push("</svg>");
  return out.join("\n") + "\n";
}
