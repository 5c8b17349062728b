/** Unit tests of node/raft/config.ts: defaults, and INVALID_CONFIG for each invalid field. */
import {
  MemoryStorage,
  RaftErrorCode,
  RawNode,
  isRaftError,
  resolveConfig,
  type RaftConfig,
} from "../../../node/raft/index.js";

const base = (): RaftConfig => ({ id: 1n, storage: new MemoryStorage(), random: () => 0 });

function invalid(over: Partial<RaftConfig>): string {
  try {
    resolveConfig({ ...base(), ...over });
  } catch (err) {
    if (isRaftError(err, RaftErrorCode.InvalidConfig)) return err.message;
    throw err;
  }
  return "accepted";
}

describe("config", () => {
  test("defaults", () => {
    const c = resolveConfig(base());
    expect(c).toMatchObject({
      group: 1n,
      electionTick: 10,
      heartbeatTick: 1,
      maxSizePerMsg: 1024 * 1024,
      maxCommittedSizePerReady: 8 * 1024 * 1024,
      maxUncommittedEntriesSize: 0,
      maxInflightMsgs: 256,
      maxInflightBytes: 0,
      checkQuorum: true,
      preVote: true,
      readOnlyOption: "safe",
      stepDownOnRemoval: true,
      applied: undefined,
    });
  });

  test.each<[string, Partial<RaftConfig>, RegExp]>([
    ["id 0", { id: 0n }, /id must not be 0/],
    ["negative id", { id: -1n }, /unsigned 64-bit/],
    ["id beyond 64 bits", { id: 1n << 64n }, /unsigned 64-bit/],
    ["heartbeatTick 0", { heartbeatTick: 0 }, /heartbeatTick must be a positive integer/],
    ["heartbeatTick fractional", { heartbeatTick: 1.5 }, /heartbeatTick/],
    ["electionTick equal to heartbeatTick", { electionTick: 2, heartbeatTick: 2 }, /electionTick/],
    ["electionTick fractional", { electionTick: 10.5 }, /electionTick/],
    ["maxInflightMsgs 0", { maxInflightMsgs: 0 }, /maxInflightMsgs/],
    ["maxSizePerMsg 0", { maxSizePerMsg: 0 }, /maxSizePerMsg/],
    [
      "lease reads without check-quorum",
      { readOnlyOption: "leaseBased", checkQuorum: false },
      /requires checkQuorum/,
    ],
  ])("%s is INVALID_CONFIG", (_name, over, msg) => {
    expect(invalid(over)).toMatch(msg);
  });

  test("the largest 64-bit id and lease reads with check-quorum are accepted", () => {
    expect(invalid({ id: (1n << 64n) - 1n })).toBe("accepted");
    expect(invalid({ readOnlyOption: "leaseBased" })).toBe("accepted");
  });

  test("RawNode refuses an invalid configuration", () => {
    let err: unknown;
    try {
      new RawNode({ ...base(), electionTick: 1 });
    } catch (e) {
      err = e;
    }
    expect(isRaftError(err, RaftErrorCode.InvalidConfig)).toBe(true);
  });
});
