/** `npm run gen:crd`: writes the JuraftCluster CRD YAML into manifests/ and the Helm chart. */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CRD_PATHS, renderCrdYaml } from "../api/crd.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const yaml = renderCrdYaml();
for (const rel of CRD_PATHS) {
  const path = join(root, rel);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, yaml);
  process.stdout.write(`wrote ${rel}\n`);
}
