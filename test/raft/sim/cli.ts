/**
 * `npm run sim -- --seeds N --from S [--verbose]`: runs seeds S..S+N-1 of the Raft simulator
 * and ends with "N passed, M failed". A failing seed prints its violation, the events leading to
 * it, and the command that replays it.
 */
import { runSeed } from "./simulation.js";

function parseArgs(argv: readonly string[]): { seeds: number; from: number; verbose: boolean } {
  let seeds = 100;
  let from = 1;
  let verbose = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0)
        throw new Error(`sim: ${arg} needs a non-negative integer, got "${argv[i]}"`);
      return v;
    };
    if (arg === "--seeds") seeds = value();
    else if (arg === "--from") from = value();
    else if (arg === "--verbose") verbose = true;
    else throw new Error(`sim: unknown argument "${arg}" (usage: --seeds N --from S [--verbose])`);
  }
  return { seeds, from, verbose };
}

const { seeds, from, verbose } = parseArgs(process.argv.slice(2));
let passed = 0;
let failed = 0;
const started = performance.now();
for (let seed = from; seed < from + seeds; seed++) {
  const result = runSeed(seed);
  if (result.ok) {
    passed++;
    if (verbose) console.log(`seed ${seed}: ok ${JSON.stringify(result.stats)}`);
    continue;
  }
  failed++;
  const replay = runSeed(seed, { trace: true });
  console.log(`seed ${seed} FAILED: ${result.error ?? "unknown"}`);
  for (const line of replay.trace.slice(-60)) console.log(`  ${line}`);
  console.log(`  replay: npm run sim -- --seeds 1 --from ${seed} --verbose`);
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`${passed} passed, ${failed} failed (${seconds}s)`);
process.exitCode = failed === 0 ? 0 : 1;
