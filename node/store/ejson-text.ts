/**
 * The `.metadata.json` document of a dumped collection, as mongodump (100.x) writes it.
 */
import { toCanonicalExtJson } from "./ejson.js";
import type { Doc, Value } from "./values.js";

/** Canonical Extended JSON of a collection's metadata: empty options and the `_id_` index. */
export function ejsonText(collection: string): string {
  const index: Doc = new Map<string, Value>([
    ["v", 2],
    ["key", new Map<string, Value>([["_id", 1]])],
    ["name", "_id_"],
  ]);
  const meta: Doc = new Map<string, Value>([
    ["options", new Map()],
    ["indexes", [index]],
    ["collectionName", collection],
    ["type", "collection"],
  ]);
  return toCanonicalExtJson(meta);
}
