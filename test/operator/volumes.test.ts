import { recordedVolume, volumeLost, type VolumeInput } from "../../operator/reconcile/volumes.js";

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
