/**
 * The certificate the operator presents to a TLS cluster's nodes, read from the Secret that
 * `spec.tls.clientSecretName` names (`tls.crt`, `tls.key`, `ca.crt`, base64 as in any Secret).
 */
import type { ClusterRef } from "../reconcile/names.js";

/** What a JuraftClient needs to talk TLS. */
export interface ClientTls {
  readonly ca: Uint8Array;
  readonly cert: Uint8Array;
  readonly key: Uint8Array;
}

/** A Secret's `data` as the API returns it. */
export type SecretData = Readonly<Record<string, string>> | undefined;

/** Reads the Secret named `name` in `namespace` (undefined when it does not exist). */
export type SecretReader = (namespace: string, name: string) => Promise<SecretData>;

/** The client TLS in a Secret's data; throws naming the Secret and the missing keys. */
export function clientTlsOf(where: string, data: SecretData): ClientTls {
  const keys = ["ca.crt", "tls.crt", "tls.key"] as const;
  const missing = keys.filter((k) => (data?.[k] ?? "") === "");
  if (data === undefined || missing.length > 0)
    throw new Error(
      `read client certificate from Secret ${where}: ${data === undefined ? "no such Secret" : `missing ${missing.join(", ")}`}`,
    );
  const get = (k: (typeof keys)[number]): Uint8Array => Buffer.from(data[k] ?? "", "base64");
  return { ca: get("ca.crt"), cert: get("tls.crt"), key: get("tls.key") };
}

/** The credentials of each cluster: none without TLS, else its client Secret's certificate. */
export function secretCredentials(
  read: SecretReader,
): (c: ClusterRef) => Promise<ClientTls | undefined> {
  return async (c) => {
    if (c.tls === undefined) return undefined;
    const name = c.tls.clientSecretName;
    return clientTlsOf(`${c.namespace}/${name}`, await read(c.namespace, name));
  };
}
