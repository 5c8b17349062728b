import type { ServiceImpl } from "@connectrpc/connect";
import type { Health } from "../../proto/gen/grpc/health/v1/health_pb.js";
import { HealthCheckResponse_ServingStatus as Status } from "../../proto/gen/grpc/health/v1/health_pb.js";
import { delay } from "../cluster/clock.js";
import type { ApiContext } from "./context.js";

/**
 * Returns whether this node should receive traffic: running, a member of its applied
 * configuration, a leader known, and caught up with the commit index it knows.
 */
export function isServing(ctx: ApiContext): boolean {
  const rt = ctx.runtime;
  if (rt.state !== "running") return false;
  const st = rt.status();
  const cs = st.config;
  const member = [...cs.voters, ...cs.learners, ...cs.votersOutgoing].includes(ctx.self.id);
  return member && st.lead !== 0n && rt.applied >= st.commit;
}

/** grpc.health.v1 for Kubernetes probes: SERVING only when {@link isServing}. */
export function healthService(ctx: ApiContext): ServiceImpl<typeof Health> {
  return {
    check(req) {
      if (req.service !== "" && req.service !== "juraft") {
        return { status: Status.SERVICE_UNKNOWN };
      }
      return { status: isServing(ctx) ? Status.SERVING : Status.NOT_SERVING };
    },
    list() {
      const status = isServing(ctx) ? Status.SERVING : Status.NOT_SERVING;
      return { statuses: { "": { status }, juraft: { status } } };
    },
    /** Streams the status now and on every change (checked every 250 ms) until cancelled. */
    async *watch(req, hc) {
      if (req.service !== "" && req.service !== "juraft") {
        yield { status: Status.SERVICE_UNKNOWN };
        return;
      }
      let last: Status | undefined;
      while (!hc.signal.aborted) {
        const status = isServing(ctx) ? Status.SERVING : Status.NOT_SERVING;
        if (status !== last) {
          last = status;
          yield { status };
        }
        try {
          await delay(250, hc.signal);
        } catch {
          return; // the client went away: the stream ends
        }
      }
    },
  };
}
