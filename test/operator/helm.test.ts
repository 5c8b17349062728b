import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { loadAllYaml } from "@kubernetes/client-node";
import { validateSpec } from "../../operator/api/validate.js";
import type { JuraftClusterSpec } from "../../operator/api/types.js";
import {
  CHART,
  OPERATOR_MANIFEST,
  ROOT,
  helm,
  renderOperatorManifest,
} from "../../operator/tools/helm.js";
import { gvkOf, validateK8s } from "./k8s-validate.js";

const T = 30_000;

/** Plain JSON objects of a multi-document YAML stream. */
function parseAll(yaml: string): unknown[] {
  return loadAllYaml(yaml)
    .filter((o: unknown) => o !== null && o !== undefined)
    .map((o: unknown) => JSON.parse(JSON.stringify(o)) as unknown);
}

/** Validates one object: Kubernetes kinds by schema, JuraftClusters by validateSpec. */
function check(o: unknown): string {
  const gvk = gvkOf(o);
  if (gvk === "juraft.dev/v1alpha1/JuraftCluster") {
    const spec = (o as { spec: JuraftClusterSpec }).spec;
    expect(validateSpec(spec).errors).toEqual([]);
  } else validateK8s(o);
  return gvk;
}

const variants: [string, string[]][] = [
  ["defaults", []],
  ["sample and jaeger", ["--set", "sample.enabled=true", "--set", "jaeger.enabled=true"]],
  [
    "one watched namespace, no leader election",
    ["--set", "watchNamespace=apps", "--set", "leaderElection=false"],
  ],
];

describe("charts/juraft-operator", () => {
  it.each(variants)(
    "helm lint --strict passes (%s)",
    async (_, args) => {
      await expect(helm(["lint", "--strict", CHART, ...args])).resolves.toContain(
        "0 chart(s) failed",
      );
    },
    T,
  );

  it.each(variants)(
    "every object helm template renders is valid (%s)",
    async (_, args) => {
      const out = await helm([
        "template",
        "t",
        CHART,
        "--namespace",
        "ops",
        "--include-crds",
        ...args,
      ]);
      const kinds = parseAll(out).map(check);
      expect(kinds).toContain("apps/v1/Deployment");
      expect(kinds).toContain("apiextensions.k8s.io/v1/CustomResourceDefinition");
    },
    T,
  );

  it(
    "renders a Role instead of a ClusterRole for one watched namespace",
    async () => {
      const out = await helm(["template", "t", CHART, "--set", "watchNamespace=apps"]);
      const kinds = parseAll(out).map(gvkOf);
      expect(kinds).not.toContain("rbac.authorization.k8s.io/v1/ClusterRole");
      expect(kinds.filter((k) => k === "rbac.authorization.k8s.io/v1/Role")).toHaveLength(2);
    },
    T,
  );

  it(
    "rejects values the schema does not know",
    async () => {
      await expect(helm(["template", "t", CHART, "--set", "replicaz=2"])).rejects.toThrow(
        /additional properties|replicaz/i,
      );
      await expect(helm(["template", "t", CHART, "--set", "replicaCount=0"])).rejects.toThrow();
    },
    T,
  );

  it(
    "grants no write access to pods or secrets (only get: the TLS client Secret), no CRDs",
    async () => {
      const out = await helm(["template", "t", CHART]);
      const role = parseAll(out).find(
        (o) => gvkOf(o) === "rbac.authorization.k8s.io/v1/ClusterRole",
      ) as {
        rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
      };
      for (const r of role.rules) {
        if (r.resources.includes("secrets")) {
          expect(r.resources).toEqual(["secrets"]);
          expect(r.verbs).toEqual(["get"]);
        }
        expect(r.resources).not.toContain("customresourcedefinitions");
        if (r.resources.includes("pods")) expect(r.verbs).toEqual(["get", "list", "watch"]);
      }
    },
    T,
  );
});

describe("Jaeger (jaeger.enabled)", () => {
  /** Names and kinds of the rendered objects labelled as Jaeger's. */
  async function jaegerObjects(args: string[]): Promise<string[]> {
    const out = await helm(["template", "t", CHART, "--namespace", "ops", ...args]);
    return parseAll(out)
      .map((o) => o as { kind: string; metadata: { name: string } })
      .filter((o) => o.metadata.name.endsWith("-jaeger"))
      .map((o) => `${o.kind}/${o.metadata.name}`);
  }

  it(
    "renders nothing for Jaeger by default, a Deployment and a Service when enabled",
    async () => {
      expect(await jaegerObjects([])).toEqual([]);
      expect((await jaegerObjects(["--set", "jaeger.enabled=true"])).sort()).toEqual([
        "Deployment/t-juraft-operator-jaeger",
        "Service/t-juraft-operator-jaeger",
      ]);
    },
    T,
  );

  it(
    "the sample cluster exports OTLP/HTTP to the Service's otlp-http port",
    async () => {
      const out = await helm([
        "template",
        "t",
        CHART,
        "--set",
        "jaeger.enabled=true",
        "--set",
        "sample.enabled=true",
      ]);
      const objs = parseAll(out) as {
        kind: string;
        spec: { tracing?: { otlpEndpoint: string }; ports?: { name: string; port: number }[] };
      }[];
      const svc = objs.find((o) => o.kind === "Service");
      const port = svc?.spec.ports?.find((p) => p.name === "otlp-http")?.port;
      const sample = objs.find((o) => o.kind === "JuraftCluster");
      expect(sample?.spec.tracing?.otlpEndpoint).toBe(`http://t-juraft-operator-jaeger:${port}`);
    },
    T,
  );
});

describe("manifests/", () => {
  it(
    "the committed operator manifest equals helm template (npm run gen:manifests)",
    async () => {
      const committed = await readFile(join(ROOT, OPERATOR_MANIFEST), "utf8");
      expect(committed).toBe(await renderOperatorManifest());
    },
    T,
  );

  it.each([
    "manifests/operator/00-namespace.yaml",
    OPERATOR_MANIFEST,
    "manifests/crd/juraft.dev_juraftclusters.yaml",
    "manifests/samples/juraftcluster.yaml",
    "manifests/samples/juraftcluster-tls.yaml",
    "manifests/jaeger/jaeger.yaml",
    "manifests/jaeger/juraftcluster-traced.yaml",
  ])(
    "every object of %s is valid",
    async (file) => {
      const objs = parseAll(await readFile(join(ROOT, file), "utf8"));
      expect(objs.length).toBeGreaterThan(0);
      objs.forEach(check);
    },
    T,
  );
});
