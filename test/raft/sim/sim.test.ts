import { runSeed } from "./simulation.js";

// `npm test` runs 500 seeds of the simulator (10,000 run with `npm run sim -- --seeds 10000`).
// Every seed checks election safety, log matching, leader completeness, state machine safety,
// linearizable ReadIndex reads and liveness after healing; see simulation.ts and checker.ts.
const batches = 10;
const perBatch = 50;

describe("raft simulator", () => {
  for (let b = 0; b < batches; b++) {
    const from = 1 + b * perBatch;
    test(`seeds ${from}..${from + perBatch - 1} keep every safety and liveness property`, () => {
      const failures: string[] = [];
      let acked = 0;
      for (let seed = from; seed < from + perBatch; seed++) {
        const result = runSeed(seed);
        acked += result.stats.acked;
        if (!result.ok) {
          failures.push(
            `seed ${seed}: ${result.error ?? "?"} (replay: npm run sim -- --seeds 1 --from ${seed} --verbose)`,
          );
        }
      }
      expect(failures).toEqual([]);
      // The runs did real work: writes were acknowledged, not merely nothing went wrong.
      expect(acked).toBeGreaterThan(perBatch * 20);
    });
  }

  test("a seed replays identically", () => {
    const a = runSeed(77);
    const b = runSeed(77);
    expect(a.stats).toEqual(b.stats);
    expect(a.stats.acked).toBeGreaterThan(0);
  });
});
