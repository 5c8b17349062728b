/**
 * Leader election with a coordination.k8s.io Lease: take it when absent or expired, renew it
 * while held; every write carries the read resourceVersion, so two candidates racing get one
 * success and one 409 Conflict.
 */
import {
  V1Lease,
  V1LeaseSpec,
  V1MicroTime,
  V1ObjectMeta,
  type CoordinationV1Api,
} from "@kubernetes/client-node";
import { httpStatusOf, orUndefined } from "./client.js";

/** Options of a {@link LeaderElector}. */
export interface LeaderElectionOptions {
  readonly namespace: string;
  readonly name: string;
  /** This candidate (the pod name). */
  readonly identity: string;
  readonly leaseSeconds: number;
  /** Injected clock. */
  readonly now: () => Date;
}

/** One candidate for the Lease. */
export class LeaderElector {
  constructor(
    private readonly api: CoordinationV1Api,
    private readonly o: LeaderElectionOptions,
  ) {}

  /** Acquires or renews the Lease; true while this candidate holds it. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseSeconds } = this.o;
    const now = this.o.now();
    const current = await orUndefined(this.api.readNamespacedLease({ namespace, name }));
    const lease = new V1Lease();
    lease.apiVersion = "coordination.k8s.io/v1";
    lease.kind = "Lease";
    lease.metadata = Object.assign(new V1ObjectMeta(), { name, namespace });
    lease.spec = Object.assign(new V1LeaseSpec(), {
      holderIdentity: identity,
      leaseDurationSeconds: leaseSeconds,
      renewTime: new V1MicroTime(now.getTime()),
      acquireTime: new V1MicroTime(now.getTime()),
      leaseTransitions: 0,
    });
    try {
      if (current === undefined) {
        await this.api.createNamespacedLease({ namespace, body: lease });
        return true;
      }
      const spec = current.spec;
      const held = spec?.holderIdentity === identity;
      // Deserialised MicroTimes may arrive as strings: normalise through Date.
      const renewTime = spec?.renewTime;
      const renewed = renewTime === undefined ? 0 : new Date(renewTime).getTime();
      const expired = renewed + (spec?.leaseDurationSeconds ?? leaseSeconds) * 1000 < now.getTime();
      if (!held && !expired) return false;
      lease.metadata.resourceVersion = current.metadata?.resourceVersion ?? "";
      lease.spec.leaseTransitions = (spec?.leaseTransitions ?? 0) + (held ? 0 : 1);
      if (held && spec.acquireTime !== undefined) lease.spec.acquireTime = spec.acquireTime;
      await this.api.replaceNamespacedLease({ namespace, name, body: lease });
      return true;
    } catch (err) {
      const code = httpStatusOf(err);
      if (code === 409) return false;
      throw err;
    }
  }
}
