/**
 * Lost-volume detection (pure). Each member's status records the UID of the PVC its data lives
 * on, taken the first time the member is seen with a volume. A member whose ordinal's PVC now has
 * another UID, is being deleted, or is gone while its pod runs, lost its data: Raft ids are never
 * reused (DESIGN.md §6), so the old member is removed and the pod rejoins as a new one
 * (FEATURES.md §2, lost member).
 */
import type { MemberStatus } from "../api/types.js";
import type { ObservedMember } from "./planner.js";

/** A PVC of the cluster, by the ordinal its name carries. */
export interface ObservedVolume {
  readonly ordinal: number;
  readonly uid: string;
  /** `metadata.deletionTimestamp` is set: its data goes with the pod. */
  readonly deleting: boolean;
}

/** What the detection needs about one Raft member. */
export interface VolumeInput {
  readonly member: ObservedMember;
  readonly ordinal: number | undefined;
  /** The previous status entry of this member id (undefined for a new member). */
  readonly previous: MemberStatus | undefined;
  readonly volume: ObservedVolume | undefined;
  readonly podExists: boolean;
}

/** The PVC UID to record for the member: the recorded one, else the current volume's. */
export function recordedVolume(i: VolumeInput): string | undefined {
  if (i.previous?.volume !== undefined) return i.previous.volume;
  return i.volume === undefined || i.volume.deleting ? undefined : i.volume.uid;
}

/** The member's data is gone (see the file comment); never true before a UID was recorded. */
export function volumeLost(i: VolumeInput): boolean {
  const recorded = i.previous?.volume;
  if (recorded === undefined || i.ordinal === undefined) return false;
  if (i.volume === undefined) return i.podExists;
  return i.volume.deleting || i.volume.uid !== recorded;
}
