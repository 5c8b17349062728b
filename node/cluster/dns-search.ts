/**
 * The resolver's search list (resolv.conf(5) `search`/`domain` and `options ndots:N`), applied
 * the way glibc applies it. Node's `dns.Resolver` asks for names exactly as given (c-ares
 * `ares_query`), so without this a Kubernetes short name such as `db-peers.prod.svc` (the pod's
 * resolv.conf has `search prod.svc.cluster.local svc.cluster.local cluster.local`, `ndots:5`)
 * would not resolve, although every other program in the pod resolves it.
 */
import { readFileSync } from "node:fs";

/** A search list and its `ndots` threshold. */
export interface DnsSearch {
  readonly domains: readonly string[];
  /** Names with fewer dots than this are tried with each domain first (default 1). */
  readonly ndots: number;
}

/** No search list: names are asked as given. */
export const NO_SEARCH: DnsSearch = { domains: [], ndots: 1 };

/** Parses resolv.conf text; the last `search` or `domain` line wins, as in glibc. */
export function parseResolvConf(text: string): DnsSearch {
  let domains: string[] = [];
  let ndots = 1;
  for (const raw of text.split("\n")) {
    const line = raw.replace(/[#;].*$/, "").trim();
    const [key, ...rest] = line.split(/\s+/);
    if (key === "search" || key === "domain") {
      domains = rest.map((d) => d.replace(/\.$/, "").toLowerCase()).filter((d) => d !== "");
    } else if (key === "options") {
      for (const opt of rest) {
        const m = /^ndots:(\d+)$/.exec(opt);
        if (m !== null) ndots = Math.min(15, Number(m[1])); // glibc caps it at 15
      }
    }
  }
  return { domains, ndots };
}

/** The search list of this host (`/etc/resolv.conf`; none when it cannot be read). */
export function systemSearch(path = "/etc/resolv.conf"): DnsSearch {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    // No resolv.conf (some containers): names are asked as given, as the resolver itself does.
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return NO_SEARCH;
    throw err;
  }
  return parseResolvConf(text);
}

/**
 * The names to ask for `name`, in order: a name ending in a dot is absolute; one with at least
 * `ndots` dots is asked as given first, then with each domain; a shorter one with each domain
 * first, then as given.
 */
export function searchCandidates(name: string, search: DnsSearch): string[] {
  if (name.endsWith(".")) return [name.slice(0, -1)];
  const withDomains = search.domains.map((d) => `${name}.${d}`);
  const dots = name.split(".").length - 1;
  return dots >= search.ndots ? [name, ...withDomains] : [...withDomains, name];
}
