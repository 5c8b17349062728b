import {
  dataWiped,
  recordedVolume,
  refusedMemberId,
  volumeLost,
  type VolumeInput,
} from "../../operator/reconcile/volumes.js";

const member = { id: "id1", name: "db-1", role: "voter", matchIndex: 10 } as const;
const prev = (volume?: string): VolumeInput["previous"] => ({
  name: "db-1",
  id: "id1",
  role: "voter",
  caughtUp: true,
  ...(volume !== undefined ? { volume } : {}),
});
const vol = (uid: string, deleting = false): VolumeInput["volume"] => ({
  ordinal: 1,
  uid,
  deleting,
});
const at = (over: Partial<VolumeInput>): VolumeInput => ({
  member,
  ordinal: 1,
  previous: prev("u1"),
  volume: vol("u1"),
  podExists: true,
  refusedAs: undefined,
  ...over,
});

const table: [string, VolumeInput, boolean, string | undefined][] = [
  ["same PVC: kept", at({}), false, "u1"],
  ["new member, PVC bound: records it", at({ previous: undefined }), false, "u1"],
  [
    "pre-registered member, no PVC yet",
    at({ previous: undefined, volume: undefined }),
    false,
    undefined,
  ],
  ["old status without a volume: records the current one", at({ previous: prev() }), false, "u1"],
  ["PVC recreated (new UID): lost", at({ volume: vol("u2") }), true, "u1"],
  ["PVC being deleted: lost", at({ volume: vol("u1", true) }), true, "u1"],
  ["PVC gone while the pod runs: lost", at({ volume: undefined }), true, "u1"],
  [
    "PVC and pod gone (being recreated): not yet judged",
    at({ volume: undefined, podExists: false }),
    false,
    "u1",
  ],
  [
    "a new member never records a PVC being deleted",
    at({ previous: undefined, volume: vol("u1", true) }),
    false,
    undefined,
  ],
  [
    "a member outside the StatefulSet's names is never lost",
    at({ ordinal: undefined, volume: vol("u2") }),
    false,
    "u1",
  ],
];

describe("lost-volume detection", () => {
  it.each(table)("%s", (_, input, lost, recorded) => {
    expect(volumeLost(input)).toBe(lost);
    expect(recordedVolume(input)).toBe(recorded);
  });
});

/** The line `juraft serve` prints when it exits refused (node/cli/main.ts, node/api). */
const refusal = (id: string): string =>
  `juraft: [already_exists NAME_IN_USE] join db-1: member ${id} has that name and holds log entries up to 42; remove it first (a member that lost its data joins as a new member)`;

describe("wiped data directory (same PVC)", () => {
  it.each<[string, string | undefined, string | undefined]>([
    ["no termination message", undefined, undefined],
    ["another failure", "juraft: [unavailable] storage: disk full\n", undefined],
    ["the refusal", `{"level":"info"}\n${refusal("77")}\n`, "77"],
    ["two refusals: the last counts", `${refusal("1")}\n${refusal("2")}\n`, "2"],
    [
      "the join loop's warning without the reason is not a refusal",
      "join through leader 5 failed (attempt 1): [already_exists] join db-1: member 9 has that name",
      undefined,
    ],
  ])("%s", (_, message, id) => {
    expect(refusedMemberId(message)).toBe(id);
  });

  it.each<[string, Partial<VolumeInput>, boolean]>([
    ["refused under the member's id: wiped", { refusedAs: "id1" }, true],
    ["no refusal", {}, false],
    ["a stale refusal naming the replaced member", { refusedAs: "id0" }, false],
    ["pod gone", { refusedAs: "id1", podExists: false }, false],
    ["outside the StatefulSet's names", { refusedAs: "id1", ordinal: undefined }, false],
  ])("%s", (_, over, wiped) => {
    expect(dataWiped(at(over))).toBe(wiped);
    expect(volumeLost(at(over))).toBe(false);
  });
});
