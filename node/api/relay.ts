import type { Client } from "@connectrpc/connect";
import type { ClusterService } from "../../proto/gen/juraft/cluster/v1/cluster_pb.js";

/** Returns a ClusterService client for a member's address. */
export interface ClusterClientPool {
  cluster(address: string): Client<typeof ClusterService>;
}
