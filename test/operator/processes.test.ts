/**
 * End to end without a cluster (process-env.ts): the operator against the fake API server with
 * real `juraft serve` processes as the pods, through the whole scenario (scenario.ts).
 */
import { jest } from "@jest/globals";
import { startProcessEnv, type ProcessEnv } from "./process-env.js";
import { runScenario } from "./scenario.js";

jest.setTimeout(600_000);

let env: ProcessEnv | undefined;

afterAll(async () => {
  await env?.close();
});

test("3 -> 5 -> 3 -> (5 -> 3) -> 1 -> 3, a crash, a wiped data dir and volume, real nodes", async () => {
  env = await startProcessEnv({ name: "db" });
  const results = await runScenario(env.driver, { stepMs: 120_000 });
  process.stdout.write(
    `${JSON.stringify({ results, starts: Object.fromEntries(env.kubelet.starts) })}\n`,
  );
  // Every step converged: the scenario checked membership, status and writes after each one.
  expect(results.map((r) => r.step)).toEqual([
    "create 3",
    "scale 3 -> 5",
    "scale 5 -> 3",
    "scale 3 -> 5 -> 3",
    "scale 3 -> 1",
    "scale 1 -> 3",
    `crash ${results[6]?.step.slice("crash ".length) ?? ""}`,
    `wipe data of ${results[7]?.step.slice("wipe data of ".length) ?? ""}`,
    "wipe db-1",
  ]);
  expect(results.at(-1)?.acked).toBeGreaterThan(20);
});
