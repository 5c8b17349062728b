/**
 * Test certificates made with the openssl CLI into a temp directory: CAs and leaf certificates
 * (ECDSA P-256, valid one day) for 127.0.0.1 and localhost, usable as server and client.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const OPENSSL = "/usr/bin/openssl";

function openssl(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(OPENSSL, args, { cwd, timeout: 20_000 }, (err, _out, stderr) => {
      if (err === null) resolve();
      else reject(new Error(`openssl ${args.join(" ")}: ${err.message}\n${stderr}`));
    });
  });
}

/** PEM files of one certificate. */
export interface Pem {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly certPath: string;
  readonly keyPath: string;
}

/** A directory of generated certificates, removed by `cleanup`. */
export class CertDir {
  private constructor(readonly dir: string) {}

  /** Creates an empty directory under the system temp directory. */
  static async create(): Promise<CertDir> {
    return new CertDir(await mkdtemp(join(tmpdir(), "juraft-certs-")));
  }

  /** A self-signed CA named `name`. */
  async ca(name: string): Promise<Pem> {
    await openssl(
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        `${name}.key`,
        "-out",
        `${name}.crt`,
        "-days",
        "1",
        "-subj",
        `/CN=${name}`,
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
      ],
      this.dir,
    );
    return this.#pem(name);
  }

  /** A leaf certificate `name` signed by `ca`, for 127.0.0.1 and localhost, server and client use. */
  async leaf(name: string, ca: string): Promise<Pem> {
    await writeFile(
      join(this.dir, `${name}.ext`),
      "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n",
    );
    await openssl(
      [
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        `${name}.key`,
        "-out",
        `${name}.csr`,
        "-subj",
        `/CN=${name}`,
      ],
      this.dir,
    );
    await openssl(
      [
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        `${ca}.crt`,
        "-CAkey",
        `${ca}.key`,
        "-CAcreateserial",
        "-out",
        `${name}.crt`,
        "-days",
        "1",
        "-extfile",
        `${name}.ext`,
      ],
      this.dir,
    );
    return this.#pem(name);
  }

  /** Writes a file into the directory and returns its path. */
  async file(name: string, text: string): Promise<string> {
    const p = join(this.dir, name);
    await writeFile(p, text);
    return p;
  }

  async #pem(name: string): Promise<Pem> {
    const certPath = join(this.dir, `${name}.crt`);
    const keyPath = join(this.dir, `${name}.key`);
    return { cert: await readFile(certPath), key: await readFile(keyPath), certPath, keyPath };
  }

  /** Removes the directory. */
  cleanup(): Promise<void> {
    return rm(this.dir, { recursive: true, force: true });
  }
}
