import { withDefaults } from "../../operator/api/defaults.js";
import { validateSpec } from "../../operator/api/validate.js";

describe("withDefaults", () => {
  it("fills every default", () => {
    const r = withDefaults({});
    expect(r.replicas).toBe(3);
    expect(r.txnMode).toBe("client");
    expect(r.storage).toEqual({ size: "1Gi" });
    expect(r.raft).toEqual({
      tickMs: 100,
      snapshotEvery: 100000,
      snapshotTrailing: 1000,
      catchUpLag: 100,
    });
    expect(r.tracing).toBeUndefined();
  });

  it("keeps what the user set", () => {
    const r = withDefaults({
      replicas: 5,
      storage: { size: "2Gi", storageClassName: "fast" },
      tracing: { otlpEndpoint: "http://jaeger:4318" },
    });
    expect(r.replicas).toBe(5);
    expect(r.storage).toEqual({ size: "2Gi", storageClassName: "fast" });
    expect(r.tracing).toEqual({ otlpEndpoint: "http://jaeger:4318", samplingRatio: 1 });
  });
});

describe("validateSpec", () => {
  it.each([
    [{ replicas: 3 }, [], []],
    [{ replicas: 0 }, ["spec.replicas must be an integer >= 1, got 0"], []],
    [{ replicas: 2.5 }, ["spec.replicas must be an integer >= 1, got 2.5"], []],
    [{ replicas: 4 }, [], ["spec.replicas=4 is even: it tolerates no more failures than 3"]],
    [{ raft: { tickMs: 0 } }, ["spec.raft.tickMs must be an integer >= 1, got 0"], []],
    [
      { raft: { snapshotTrailing: -1 } },
      ["spec.raft.snapshotTrailing must be an integer >= 0, got -1"],
      [],
    ],
    [
      { tracing: { otlpEndpoint: "jaeger" } },
      ["spec.tracing.otlpEndpoint must be an http(s) URL, got jaeger"],
      [],
    ],
    [
      { tracing: { otlpEndpoint: "http://j:4318", samplingRatio: 2 } },
      ["spec.tracing.samplingRatio must be within 0..1, got 2"],
      [],
    ],
    [
      { storage: { size: "lots" } },
      ["spec.storage.size must be a quantity such as 1Gi, got lots"],
      [],
    ],
    [{ tls: { secretName: "s", clientSecretName: "op", clientAuth: false } }, [], []],
    [
      { tls: { secretName: "Bad_Name", clientSecretName: "" } },
      [
        "spec.tls.secretName must be a Secret name (DNS-1123 subdomain), got Bad_Name",
        "spec.tls.clientSecretName must be a Secret name (DNS-1123 subdomain), got ",
      ],
      [],
    ],
  ])("%j", (spec, errors, warnings) => {
    expect(validateSpec(spec)).toEqual({ errors, warnings });
  });
});
