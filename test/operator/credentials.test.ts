import { clientTlsOf, secretCredentials } from "../../operator/cluster/credentials.js";
import type { ClusterRef } from "../../operator/reconcile/names.js";

const b64 = (s: string): string => Buffer.from(s).toString("base64");
const full = { "ca.crt": b64("CA"), "tls.crt": b64("CERT"), "tls.key": b64("KEY") };
const text = (u: Uint8Array): string => Buffer.from(u).toString();

describe("the operator's client certificate", () => {
  it("decodes the Secret's three keys", () => {
    const tls = clientTlsOf("ns/op", full);
    expect([text(tls.ca), text(tls.cert), text(tls.key)]).toEqual(["CA", "CERT", "KEY"]);
  });

  it.each<[string, Record<string, string> | undefined, RegExp]>([
    ["no Secret", undefined, /Secret ns\/op: no such Secret/],
    ["no key", { "ca.crt": b64("CA"), "tls.crt": b64("C") }, /missing tls\.key/],
    [
      "empty values",
      { "ca.crt": "", "tls.crt": "", "tls.key": b64("K") },
      /missing ca\.crt, tls\.crt/,
    ],
  ])("names what is wrong: %s", (_, data, why) => {
    expect(() => clientTlsOf("ns/op", data)).toThrow(why);
  });

  it("reads the clientSecretName of TLS clusters only", async () => {
    const asked: string[] = [];
    const creds = secretCredentials((ns, name) => {
      asked.push(`${ns}/${name}`);
      return Promise.resolve(full);
    });
    const plain: ClusterRef = { name: "db", namespace: "ns", uid: "u" };
    expect(await creds(plain)).toBeUndefined();
    const tls = await creds({
      ...plain,
      tls: { secretName: "db-tls", clientSecretName: "op", clientAuth: true },
    });
    expect(tls === undefined ? "" : text(tls.cert)).toBe("CERT");
    expect(asked).toEqual(["ns/op"]);
  });
});
