/** `npm run gen:manifests`: renders the chart into the plain manifest under manifests/operator/. */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { OPERATOR_MANIFEST, ROOT, renderOperatorManifest } from "./helm.js";

const path = join(ROOT, OPERATOR_MANIFEST);
await mkdir(dirname(path), { recursive: true });
await writeFile(path, await renderOperatorManifest());
process.stdout.write(`wrote ${OPERATOR_MANIFEST}\n`);
