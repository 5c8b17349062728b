import { decodeDoc, encodeDoc, toDoc, toValue, type Doc, type Value } from "../store/index.js";
import { invalidArgument } from "../cluster/errors.js";

/** Decodes a BSON request field that must hold a document; empty bytes give undefined. */
export function decodeOptionalDoc(bytes: Uint8Array, field: string): Doc | undefined {
  if (bytes.length === 0) return undefined;
  try {
    return decodeDoc(bytes);
  } catch (err) {
    throw invalidArgument(
      "BAD_BSON",
      `decode ${field}: not a valid BSON document (${err instanceof Error ? err.message : String(err)})`,
    );
  }
}

/** Decodes a BSON wrapper document `{key: value}` and returns the value; throws if missing. */
export function decodeWrapped(bytes: Uint8Array, field: string, key: string): Value {
  const doc = decodeOptionalDoc(bytes, field);
  if (doc?.has(key) !== true)
    throw invalidArgument("BAD_BSON", `decode ${field}: expected a BSON document {"${key}": ...}`);
  return doc.get(key) as Value;
}

/** Encodes `{key: value}` as BSON. */
export function encodeWrapped(key: string, value: unknown): Uint8Array {
  const doc: Doc = new Map([[key, toValue(value, key, 2)]]);
  return encodeDoc(doc);
}

/** Encodes a stored document as BSON. */
export function encodeDocument(doc: Doc): Uint8Array {
  return encodeDoc(doc);
}

/** Encodes a plain value tree as a BSON document (client side). */
export function encodePlain(value: unknown, field: string): Uint8Array {
  return encodeDoc(toDoc(value, field));
}
