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

/** Whether `p[i]` starts a quantifier with a choice of counts (`*`, `+`, `{n,}`, `{n,m}`). */
function repeatsAt(p: string, i: number): boolean {
  const c = p.charAt(i);
  if (c === "*" || c === "+") return true;
  if (c !== "{") return false;
  const m = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(i));
  if (m === null) return false;
  // An exact count (`{3}`) offers the engine no choice, so it cannot backtrack.
  if (m[2] === undefined) return false;
  return m[3] === "" || Number(m[3]) > Number(m[1]);
}

/**
 * Finds a group that repeats and contains a repeat itself (`(a+)+`, `(?:x*y)*`, `(a{2,})+`):
 * the shape of catastrophic backtracking. JavaScript's engine has no time limit, and a committed
 * assert runs on every member and again on every restart, so one such pattern could stall the
 * cluster (RELIABILITY.md). MongoDB accepts them; juraft refuses them (README, semantics).
 */
function nestedRepeat(p: string): boolean {
  const groups: boolean[] = []; // per open group: does it contain a repeat?
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p.charAt(i);
    if (c === "\\") {
      i++;
      if (!inClass && repeatsAt(p, i + 1) && groups.length > 0) groups[groups.length - 1] = true;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      else continue;
    } else if (c === "[") {
      inClass = true;
      continue;
    } else if (c === "(") {
      groups.push(false);
      continue;
    } else if (c === ")") {
      const inner = groups.pop() ?? false;
      if (repeatsAt(p, i + 1) && inner) return true;
      if (groups.length > 0 && (inner || repeatsAt(p, i + 1))) groups[groups.length - 1] = true;
      continue;
    }
    // An atom (a character, a class just closed, `.`) followed by a repeat.
    if (repeatsAt(p, i + 1) && groups.length > 0) groups[groups.length - 1] = true;
  }
  return false;
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
  if (nestedRepeat(source)) {
    badInput(
      "BAD_REGEX",
      `compile regex ${q(pattern)}: a repeated group that itself repeats (catastrophic backtracking) is refused`,
      { field },
    );
  }
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
