/**
 * Lost-data detection (pure). Each member's status records the UID of the PVC its data lives
 * on, taken the first time the member is seen with a volume. A member whose ordinal's PVC now has
 * another UID, is being deleted, or is gone while its pod runs, lost its data: Raft ids are never
 * reused (DESIGN.md §6), so the old member is removed and the pod rejoins as a new one
 * (FEATURES.md §2.4, lost member).
 *
 * A data directory wiped on the same PVC is seen from the node's side instead: with no data the
 * node joins, the leader refuses the name (NAME_IN_USE: "member ID has that name and holds log
 * entries"), the node exits, and Kubernetes keeps the refusal as the container's termination
 * message (`terminationMessagePolicy: FallbackToLogsOnError`). etcd's members crash-loop the same
 * way on a lost data dir ("member ID mismatch"), which is what etcd operators key on; naming the
 * refused id lets a stale message (from before the member was replaced) be told apart.
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
  /** The member id the pod's last container was refused for ({@link refusedMemberId}). */
  readonly refusedAs: string | undefined;
}

/** Anchors the refusal the node prints when it exits (node/server/join.ts, NAME_IN_USE). */
const REFUSAL = /NAME_IN_USE[^\n]*?member (\w+) has that name/g;

/**
 * The member id a container's termination message says its join was refused for (its name is in
 * use by a member holding log entries), or undefined. The last refusal counts.
 */
export function refusedMemberId(message: string | undefined): string | undefined {
  if (message === undefined) return undefined;
  return [...message.matchAll(REFUSAL)].at(-1)?.[1];
}

/** The member's pod restarted without its data (refused under the member's current id). */
export function dataWiped(i: VolumeInput): boolean {
  return i.ordinal !== undefined && i.podExists && i.refusedAs === i.member.id;
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
