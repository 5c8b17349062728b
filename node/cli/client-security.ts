import { readFileSync } from "node:fs";
import type { ClientOptions } from "../client/index.js";
import { CliError, usage } from "./exit.js";

/** The global client flags of `juraft` (etcdctl's names). */
export interface ClientSecurityFlags {
  readonly cacert?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly token?: string;
}

function read(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CliError(`${flag}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * The TLS and token options of a client: any of `--cacert`, `--cert`, `--key` switches to TLS;
 * `--cert` and `--key` go together.
 */
export function clientSecurityOf(f: ClientSecurityFlags): Pick<ClientOptions, "tls" | "token"> {
  if ((f.cert === undefined) !== (f.key === undefined)) throw usage("--cert and --key go together");
  const out: { tls?: NonNullable<ClientOptions["tls"]>; token?: string } = {};
  if (f.cacert !== undefined || f.cert !== undefined) {
    out.tls = {
      ...(f.cacert !== undefined ? { ca: read(f.cacert, "--cacert") } : {}),
      ...(f.cert !== undefined ? { cert: read(f.cert, "--cert") } : {}),
      ...(f.key !== undefined ? { key: read(f.key, "--key") } : {}),
    };
  }
  if (f.token !== undefined) {
    if (f.token === "" || /\s/.test(f.token)) throw usage("--token: empty or contains a space");
    out.token = f.token;
  }
  return out;
}
