import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { StoreService } from "../../proto/gen/juraft/store/v1/store_pb.js";
import {
  ChangeKind,
  WatchResponseSchema,
  type WatchResponse,
} from "../../proto/gen/juraft/store/v1/store_pb.js";
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { ClusterError, invalidArgument } from "../cluster/errors.js";
import { applyTxn } from "./apply.js";
import { decodeOptionalDoc, decodeWrapped, encodeDocument, encodeWrapped } from "./codec.js";
import { telemetryOf, type ApiContext } from "./context.js";
import { requireLeader } from "./leader.js";
import { checkCollection, getDocument, readAt } from "./reads.js";
import { serveSession } from "./session.js";
import { scopeOf, traceContextOf } from "./trace.js";

const kinds = {
  insert: ChangeKind.INSERT,
  update: ChangeKind.UPDATE,
  remove: ChangeKind.REMOVE,
} as const;

/** The client API (DESIGN.md §3–§5). */
export function storeService(ctx: ApiContext): ServiceImpl<typeof StoreService> {
  return {
    async apply(req, hc: HandlerContext) {
      return applyTxn(ctx, req, {
        relayed: false,
        traceContext: traceContextOf(ctx, hc),
        scope: scopeOf(ctx, hc),
        signal: hc.signal,
      });
    },

    get(req, hc) {
      return getDocument(ctx, req, hc.signal, scopeOf(ctx, hc));
    },

    async find(req, hc) {
      checkCollection(req.collection, "find documents");
      const filter = decodeOptionalDoc(req.filter, "filter");
      const projection = decodeOptionalDoc(req.projection, "projection");
      const sort = decodeOptionalDoc(req.sort, "sort");
      const appliedIndex = await readAt(ctx, req.consistency, hc.signal, scopeOf(ctx, hc));
      const docs = ctx.runtime.store.find(req.collection, {
        ...(filter !== undefined ? { filter } : {}),
        ...(projection !== undefined ? { projection } : {}),
        ...(sort !== undefined ? { sort } : {}),
        ...(req.skip > 0n ? { skip: Number(req.skip) } : {}),
        ...(req.limit > 0n ? { limit: Number(req.limit) } : {}),
      });
      return { documents: docs.map(encodeDocument), appliedIndex };
    },

    async count(req, hc) {
      checkCollection(req.collection, "count documents");
      const filter = decodeOptionalDoc(req.filter, "filter");
      const appliedIndex = await readAt(ctx, req.consistency, hc.signal, scopeOf(ctx, hc));
      return { count: BigInt(ctx.runtime.store.count(req.collection, filter)), appliedIndex };
    },

    async listCollections(req, hc) {
      const appliedIndex = await readAt(ctx, req.consistency, hc.signal, scopeOf(ctx, hc));
      return { names: ctx.runtime.store.listCollections(), appliedIndex };
    },

    async *watch(req, hc): AsyncIterable<WatchResponse> {
      for (const c of req.collections) checkCollection(c, "watch");
      const ids = req.ids.length === 0 ? undefined : decodeWrapped(req.ids, "ids", "ids");
      if (ids !== undefined && !Array.isArray(ids))
        throw invalidArgument("BAD_IDS", 'watch: ids must be a BSON document {"ids": [...]}');
      const from = req.fromIndex;
      const watcher = ctx.hub.watch({
        collections: req.collections,
        ...(ids !== undefined ? { ids: ids } : {}),
        // The API's from_index is inclusive (etcd's start revision); the hub's is "last seen".
        ...(from !== undefined ? { fromIndex: Math.max(0, Number(from) - 1) } : {}),
        signal: hc.signal,
      });
      try {
        const tel = telemetryOf(ctx);
        const scope = scopeOf(ctx, hc);
        for await (const ev of watcher) {
          tel.watchDelivered(scope, ev.index, ev.collection);
          yield create(WatchResponseSchema, {
            events: [
              {
                index: BigInt(ev.index),
                collection: ev.collection,
                id: encodeWrapped("_id", ev.id),
                revno: BigInt(ev.revno),
                kind: kinds[ev.kind],
                skipped: ev.skipped,
              },
            ],
          });
        }
      } finally {
        watcher.close();
      }
    },

    async import(req, hc) {
      checkCollection(req.collection, "import");
      requireLeader(ctx, `import into ${req.collection}`);
      const bytes = req.documents.reduce((n, d) => n + d.length, 0);
      if (bytes > ctx.limits.maxTxnBytes) {
        throw new ClusterError(
          Code.ResourceExhausted,
          "IMPORT_TOO_LARGE",
          `import into ${req.collection}: ${bytes} bytes, more than the limit of ${ctx.limits.maxTxnBytes}`,
        );
      }
      const documents = req.documents.map((d, i) => {
        if (decodeOptionalDoc(d, `documents[${i}]`) === undefined)
          throw invalidArgument("BAD_BSON", `import: document ${i} is empty`);
        return d;
      });
      const r = await ctx.runtime.propose(
        {
          txnId: "",
          ops: new Uint8Array(0),
          traceContext: traceContextOf(ctx, hc),
          timeMs: ctx.clock.now(),
          import: { collection: req.collection, documents },
        },
        hc.signal,
      );
      if (r.outcome === "rejected") throw r.error;
      if (r.outcome !== "imported")
        throw new Error(`import: entry ${r.index} applied as a transaction`);
      return { index: BigInt(r.index), count: BigInt(r.count) };
    },

    session(requests, hc) {
      return serveSession(ctx, requests, hc);
    },

    async *dump(req, hc) {
      const appliedIndex = await readAt(ctx, req.consistency, hc.signal, scopeOf(ctx, hc));
      // Captured at once: entries applied while the stream is read cannot tear it.
      const chunks = [...ctx.runtime.store.snapshot()];
      let first = true;
      for (const data of chunks) {
        yield { data, appliedIndex: first ? appliedIndex : 0n };
        first = false;
      }
    },
  };
}
