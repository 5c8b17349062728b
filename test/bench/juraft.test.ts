import { jest } from "@jest/globals";
import { JuraftTarget } from "../../node/bench/juraft-target.js";
import { expectSane, runAll } from "./common.js";

jest.setTimeout(60_000);

describe("juraft target (a local 3-node cluster of real serve processes)", () => {
  const ac = new AbortController();
  let target: JuraftTarget | undefined;

  afterAll(async () => {
    ac.abort();
    await target?.close();
  });

  test("every workload runs and reports sane numbers", async () => {
    target = await JuraftTarget.open({ local: 3 }, ac.signal);
    expect(target.servers).toHaveLength(3);
    const results = await runAll(target, 1000, 8, ac.signal);
    expectSane(results);
  });
});
