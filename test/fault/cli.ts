/**
 * `npm run fault -- [--time SEC] [--nodes N] [--nemesis all|kill,pause,...] [--seed S]
 * [--net auto|netns|proxy] [--out DIR] [--reads quorum|local]`: a long fault run. Writes DIR/history.jsonl (one event
 * per line), faults.json, verdict.json and timeline.svg; prints the verdict; exits 1 if an
 * anomaly was found, 2 if the checker could not decide (its search bound was hit).
 */
import { tmpdir } from "node:os";
import { NEMESES, type NemesisName } from "./nemesis.js";
import { faultRun } from "./run.js";

interface Args {
  time: number;
  nodes: number;
  nemeses: NemesisName[];
  seed: number;
  net: "auto" | "netns" | "proxy";
  out: string;
  reads: "quorum" | "local";
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = {
    time: 60,
    nodes: 5,
    nemeses: [...NEMESES],
    seed: Date.now() % 100_000,
    net: "auto",
    out: "",
    reads: "quorum",
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`fault: ${flag} needs a value`);
      return v;
    };
    const int = (): number => {
      const v = Number(value());
      if (!Number.isInteger(v) || v < 0)
        throw new Error(`fault: ${flag} needs a non-negative integer`);
      return v;
    };
    if (flag === "--time") a.time = int();
    else if (flag === "--nodes") a.nodes = int();
    else if (flag === "--seed") a.seed = int();
    else if (flag === "--out") a.out = value();
    else if (flag === "--reads") {
      const v = value();
      if (v !== "quorum" && v !== "local") throw new Error("fault: --reads is quorum or local");
      a.reads = v;
    } else if (flag === "--net") {
      const v = value();
      if (v !== "auto" && v !== "netns" && v !== "proxy")
        throw new Error("fault: --net is auto, netns or proxy");
      a.net = v;
    } else if (flag === "--nemesis") {
      const v = value();
      const names = v === "all" ? [...NEMESES] : v === "none" ? [] : v.split(",");
      for (const n of names)
        if (!(NEMESES as readonly string[]).includes(n))
          throw new Error(
            `fault: unknown nemesis ${JSON.stringify(n)} (known: ${NEMESES.join(", ")}, all, none)`,
          );
      a.nemeses = names as NemesisName[];
    } else throw new Error(`fault: unknown argument ${JSON.stringify(flag)}`);
  }
  if (a.nodes < 3 || a.nodes > 9) throw new Error("fault: --nodes must be 3..9");
  if (a.out === "")
    a.out = `${tmpdir()}/juraft-fault-${new Date().toISOString().replace(/[:.]/g, "-")}-seed${a.seed}`;
  return a;
}

const args = parseArgs(process.argv.slice(2));
const abort = new AbortController();
process.once("SIGINT", () => {
  console.error("fault: interrupted; healing, checking and cleaning up");
  abort.abort();
});
const started = Date.now();
console.log(
  `fault: ${args.nodes} nodes, ${args.time} s, nemeses ${args.nemeses.join(",") || "none"}, seed ${args.seed}`,
);
const report = await faultRun({
  nodes: args.nodes,
  timeSec: args.time,
  nemeses: args.nemeses,
  seed: args.seed,
  net: args.net,
  reads: args.reads,
  outDir: args.out,
  signal: abort.signal,
  log: (l) => {
    console.log(`[${Math.round((Date.now() - started) / 1000)}s] ${l}`);
  },
});
const bad = report.registers.keys.filter((k) => k.valid !== true);
console.log(
  JSON.stringify({ ops: report.ops, faults: report.faults, crashes: report.crashes.length }),
);
console.log(
  `registers: ${String(report.registers.valid)} (${report.registers.keys.length} keys${bad.length > 0 ? `; not valid: ${bad.map((k) => `${k.key}=${String(k.valid)}`).join(", ")}` : ""})`,
);
console.log(
  `list-append: ${String(report.listAppend.valid)} ${JSON.stringify(report.listAppend.stats)}`,
);
for (const a of report.listAppend.anomalies.slice(0, 10))
  console.log(`  anomaly: ${JSON.stringify(a)}`);
console.log(`convergence: ${JSON.stringify(report.convergence)}`);
console.log(`verdict: ${String(report.valid)}; history, verdict and timeline.svg in ${args.out}`);
process.exitCode = report.valid === true ? 0 : report.valid === "unknown" ? 2 : 1;
