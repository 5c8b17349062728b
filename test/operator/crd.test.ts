import { readFile } from "node:fs/promises";
import { validateK8s } from "./k8s-validate.js";
import { CRD_PATHS, juraftClusterCrd, renderCrdYaml } from "../../operator/api/crd.js";
import { toYaml } from "../../operator/api/yaml.js";

describe("JuraftCluster CRD", () => {
  it("validates against the official CustomResourceDefinition schema", () => {
    expect(() => {
      validateK8s(juraftClusterCrd());
    }).not.toThrow();
  });

  it.each(CRD_PATHS)("the committed %s equals the generated YAML (npm run gen:crd)", async (p) => {
    expect(await readFile(new URL(`../../${p}`, import.meta.url), "utf8")).toBe(renderCrdYaml());
  });

  it("has /status and /scale with a string selector path, and printer columns", () => {
    const yaml = renderCrdYaml();
    expect(yaml).toContain("status: {}");
    expect(yaml).toContain("specReplicasPath: .spec.replicas");
    expect(yaml).toContain("statusReplicasPath: .status.replicas");
    expect(yaml).toContain("labelSelectorPath: .status.selector");
    expect(yaml).toMatch(/selector:\n\s+type: string/);
    expect(yaml).toContain("additionalPrinterColumns:");
  });
});

describe("toYaml", () => {
  it("emits block YAML, quoting strings that would not read back as themselves", () => {
    expect(
      toYaml({ a: [1, { b: "x", c: [] }], d: {}, e: "yes", f: "1Gi", g: null, h: true, i: "a b" }),
    ).toBe(
      'a:\n  - 1\n  - b: x\n    c: []\nd: {}\ne: "yes"\nf: "1Gi"\ng: null\nh: true\ni: "a b"\n',
    );
  });
});
