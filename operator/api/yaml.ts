/** A small deterministic YAML emitter for plain JSON data (block style, two-space indent). */

/** JSON-compatible data. */
export type Json =
  null | boolean | number | string | readonly Json[] | { readonly [k: string]: Json };

const plain = /^[A-Za-z_/.][A-Za-z0-9_./-]*$/;
const reserved = /^(true|false|yes|no|on|off|null|y|n|~)$/i;

function scalar(v: null | boolean | number | string): string {
  if (typeof v === "string") return plain.test(v) && !reserved.test(v) ? v : JSON.stringify(v);
  return String(v);
}

const isEmpty = (v: Json): boolean =>
  v !== null &&
  typeof v === "object" &&
  (Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0);

function emptyOf(v: Json): string {
  return Array.isArray(v) ? "[]" : "{}";
}

function lines(v: Json, indent: string): string[] {
  if (v === null || typeof v !== "object") return [indent + scalar(v)];
  const out: string[] = [];
  if (Array.isArray(v)) {
    for (const item of v as readonly Json[]) {
      if (item !== null && typeof item === "object" && !isEmpty(item)) {
        const inner = lines(item, indent + "  ");
        const first = inner[0] ?? "";
        out.push(`${indent}- ${first.slice(indent.length + 2)}`, ...inner.slice(1));
      } else out.push(`${indent}- ${isEmpty(item) ? emptyOf(item) : scalar(item as string)}`);
    }
    return out;
  }
  for (const [k, child] of Object.entries(v as Readonly<Record<string, Json>>)) {
    const key = scalar(k);
    if (child !== null && typeof child === "object" && !isEmpty(child)) {
      out.push(`${indent}${key}:`, ...lines(child, indent + "  "));
    } else
      out.push(`${indent}${key}: ${isEmpty(child) ? emptyOf(child) : scalar(child as string)}`);
  }
  return out;
}

/** Serialises JSON data as a YAML document (ending in a newline). */
export function toYaml(value: Json): string {
  return lines(value, "").join("\n") + "\n";
}
