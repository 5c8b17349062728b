import { create } from "@bufbuild/protobuf";
import {
  Consistency,
  GetResponseSchema,
  type GetRequest,
  type GetResponse,
} from "../../proto/gen/juraft/store/v1/store_pb.js";
import { invalidArgument } from "../cluster/errors.js";
import { decodeWrapped, encodeDocument } from "./codec.js";
import type { TraceScope } from "../telemetry/index.js";
import { telemetryOf, type ApiContext } from "./context.js";

/** Waits as the requested consistency demands; returns the applied index the read reflects. */
export async function readAt(
  ctx: ApiContext,
  consistency: Consistency,
  signal: AbortSignal,
  scope?: TraceScope,
): Promise<bigint> {
  if (consistency !== Consistency.LOCAL) {
    // The ReadIndex wait (thesis §6.4): a quorum round plus applying up to the read index.
    await telemetryOf(ctx).span(scope, "juraft.read_index", {}, () =>
      ctx.runtime.linearizableRead(signal),
    );
  }
  return BigInt(ctx.runtime.applied);
}

/** Throws INVALID_ARGUMENT unless `name` is a usable collection name. */
export function checkCollection(name: string, action: string): void {
  if (name === "" || name.includes("\0") || name.startsWith("$")) {
    throw invalidArgument(
      "BAD_COLLECTION",
      `${action}: collection name ${JSON.stringify(name)} is not valid`,
    );
  }
}

/** Reads one document by `_id` at the requested consistency. */
export async function getDocument(
  ctx: ApiContext,
  req: GetRequest,
  signal: AbortSignal,
  scope?: TraceScope,
): Promise<GetResponse> {
  checkCollection(req.collection, "get document");
  const id = decodeWrapped(req.id, "id", "_id");
  const appliedIndex = await readAt(ctx, req.consistency, signal, scope);
  const store = ctx.runtime.store;
  const doc = store.get(req.collection, id);
  return create(GetResponseSchema, {
    found: doc !== undefined,
    document: doc === undefined ? new Uint8Array(0) : encodeDocument(doc),
    revno: BigInt(store.revno(req.collection, id)),
    appliedIndex,
  });
}
