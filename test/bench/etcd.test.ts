import { jest } from "@jest/globals";
import { existsSync } from "node:fs";
import { ETCD_BIN, EtcdTarget } from "../../node/bench/etcd-target.js";
import { expectSane, runAll } from "./common.js";

jest.setTimeout(60_000);

const ac = new AbortController();
let target: EtcdTarget | undefined;

afterAll(async () => {
  ac.abort();
  await target?.close();
});

if (existsSync(ETCD_BIN))
  test("etcd target: every workload runs against three local etcd processes", async () => {
    target = await EtcdTarget.open({ local: 3 }, ac.signal);
    expect(target.servers).toHaveLength(3);
    expectSane(await runAll(target, 700, 8, ac.signal));
  });
else
  test("etcd target: not run", () => {
    console.log(
      `etcd target test not run: ${ETCD_BIN} does not exist (apt-get install etcd-server)`,
    );
  });
