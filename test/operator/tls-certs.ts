/**
 * A test CA and one member certificate for a TLS JuraftCluster, made with the openssl CLI (as
 * test/security does), as the Secret a user would create: `tls.crt`, `tls.key`, `ca.crt`. The
 * member certificate names the peer DNS names and the loopback addresses the test kubelet gives
 * the pods, and serves as server and client (members authenticate each other with it).
 */
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

function openssl(args: readonly string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile("/usr/bin/openssl", [...args], { cwd, timeout: 20_000 }, (err, _out, stderr) => {
      if (err === null) resolve();
      else reject(new Error(`openssl ${args.join(" ")}: ${err.message}\n${stderr}`));
    });
  });
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** The Secret's files as PEM text, and where they were written. */
export interface ClusterCerts {
  readonly "ca.crt": string;
  readonly "tls.crt": string;
  readonly "tls.key": string;
}

/** Creates a CA and a leaf signed by it for `names` (DNS) and `ips`, in `dir`. */
export async function clusterCerts(
  dir: string,
  names: readonly string[],
  ips: readonly string[],
): Promise<ClusterCerts> {
  await openssl(
    [
      "req",
      "-x509",
      ...EC,
      "-keyout",
      "ca.key",
      "-out",
      "ca.crt",
      "-days",
      "1",
      "-subj",
      "/CN=juraft test CA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ],
    dir,
  );
  const san = [...names.map((n) => `DNS:${n}`), ...ips.map((ip) => `IP:${ip}`)].join(",");
  await writeFile(
    join(dir, "member.ext"),
    `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n`,
  );
  await openssl(
    ["req", ...EC, "-keyout", "tls.key", "-out", "member.csr", "-subj", "/CN=juraft member"],
    dir,
  );
  await openssl(
    [
      "x509",
      "-req",
      "-in",
      "member.csr",
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      "tls.crt",
      "-days",
      "1",
      "-extfile",
      "member.ext",
    ],
    dir,
  );
  const read = (f: string): Promise<string> => readFile(join(dir, f), "utf8");
  return {
    "ca.crt": await read("ca.crt"),
    "tls.crt": await read("tls.crt"),
    "tls.key": await read("tls.key"),
  };
}
