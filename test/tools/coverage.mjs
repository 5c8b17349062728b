/* global process, console */
// Prints line coverage per top-level folder of node/ from jest's json-summary (npm test runs it
// after jest). The 90% floor for node/raft is enforced by jest's coverageThreshold.
import { readFileSync } from "node:fs";
import { relative, resolve } from "node:path";

const summary = JSON.parse(readFileSync(resolve("coverage/coverage-summary.json"), "utf8"));
const folders = new Map();
for (const [file, data] of Object.entries(summary)) {
  if (file === "total") continue;
  const parts = relative(process.cwd(), file).split("/");
  const folder = parts.slice(0, 2).join("/");
  const agg = folders.get(folder) ?? { covered: 0, total: 0 };
  agg.covered += data.lines.covered;
  agg.total += data.lines.total;
  folders.set(folder, agg);
}
for (const [folder, { covered, total }] of [...folders].sort()) {
  const pct = total === 0 ? 100 : (100 * covered) / total;
  console.log(`line coverage ${folder}/: ${pct.toFixed(2)}% (${covered}/${total})`);
}
