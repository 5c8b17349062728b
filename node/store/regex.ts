/**
 * BSON regular expressions evaluated with JavaScript's engine (SPEC §4.2 "Regex"). PCRE-only
 * syntax that JavaScript rejects is a coded `BAD_REGEX` error; option `x` strips unescaped
 * whitespace and `#` comments as PCRE's extended mode does.
 */
import type { BSONRegExp } from "bson";
import { badInput, q } from "./errors.js";

const cache = new Map<string, RegExp>();

function stripExtended(p: string): string {
  let out = "";
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p.charAt(i);
    if (c === "\\") {
      out += c + p.charAt(i + 1);
      i++;
    } else if (inClass) {
      if (c === "]") inClass = false;
      out += c;
    } else if (c === "[") {
      inClass = true;
      out += c;
    } else if (c === "#") {
      while (i < p.length && p.charAt(i) !== "\n") i++;
    } else if (!/\s/.test(c)) out += c;
  }
  return out;
}

/** Compiles a pattern and BSON options (`imsux`) to a JS RegExp; `field` names it in errors. */
export function compileRegex(pattern: string, options: string, field: string): RegExp {
  const key = `${options}/${pattern}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  let flags = "";
  for (const f of options) {
    if (f === "i" || f === "m" || f === "s" || f === "u") flags += f;
    else if (f !== "x" && f !== "l") {
      badInput("BAD_REGEX", `compile regex ${q(pattern)}: unknown option ${q(f)}`, { field });
    }
  }
  const source = options.includes("x") ? stripExtended(pattern) : pattern;
  let re: RegExp;
  try {
    re = new RegExp(source, flags);
  } catch {
    return badInput("BAD_REGEX", `compile regex ${q(pattern)}: not a valid pattern`, { field });
  }
  if (cache.size > 10_000) cache.clear();
  cache.set(key, re);
  return re;
}

/** Compiles a BSON regex value. */
export function compileBsonRegex(r: BSONRegExp, field: string): RegExp {
  return compileRegex(r.pattern, r.options, field);
}
