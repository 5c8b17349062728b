import { readFile } from "node:fs/promises";
import { EJSON } from "bson";
import { toCanonicalExtJson, toValue, type Value } from "../store/index.js";
import { usage } from "./exit.js";

/** Parses Extended JSON text (canonical or relaxed) into a store value; bad text is a usage error. */
export function parseExtJson(text: string, what: string): Value {
  let parsed: unknown;
  try {
    parsed = EJSON.parse(text, { relaxed: false });
  } catch (err) {
    throw usage(
      `parse ${what}: not valid Extended JSON (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  try {
    return toValue(parsed, what, 1);
  } catch (err) {
    throw usage(`parse ${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Parses an `_id` argument: Extended JSON if it parses as such, else the literal string. */
export function parseId(text: string): Value {
  try {
    return toValue(EJSON.parse(text, { relaxed: false }), "_id", 2);
  } catch {
    // A plain id such as u/0 is not JSON: it is the string itself.
    return text;
  }
}

/** Reads the txn argument: inline text, `-f FILE`, or `-` for stdin. */
export async function readOpsText(
  arg: string | undefined,
  file: string | undefined,
): Promise<string> {
  if (file !== undefined) return readFile(file, "utf8");
  if (arg === "-") {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  }
  if (arg === undefined)
    throw usage("txn: give the ops as an Extended JSON array, -f FILE, or - for stdin");
  return arg;
}

/** Formats a value as canonical Extended JSON. */
export function formatExtJson(v: Value): string {
  return toCanonicalExtJson(v);
}
