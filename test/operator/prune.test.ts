import { toPrune, type OwnedObject } from "../../operator/reconcile/prune.js";

const own = (apiVersion: string, kind: string, name: string, uids = ["u1"]): OwnedObject => ({
  apiVersion,
  kind,
  name,
  controllerUids: uids,
});
const desired = [
  { apiVersion: "v1", kind: "Service", name: "db" },
  { apiVersion: "v1", kind: "ConfigMap", name: "db-config" },
];

const table: [string, OwnedObject[], string[]][] = [
  ["everything desired: nothing pruned", [own("v1", "Service", "db")], []],
  [
    "a NetworkPolicy no longer wanted is pruned",
    [own("v1", "Service", "db"), own("networking.k8s.io/v1", "NetworkPolicy", "db")],
    ["networking.k8s.io/v1/NetworkPolicy/db"],
  ],
  [
    "same kind, another name: pruned (a renamed child)",
    [own("v1", "ConfigMap", "db-old")],
    ["v1/ConfigMap/db-old"],
  ],
  [
    "another owner's object is left alone",
    [own("networking.k8s.io/v1", "NetworkPolicy", "db", ["u2"])],
    [],
  ],
  ["an object with no controller is left alone", [own("v1", "ConfigMap", "x", [])], []],
  [
    "StatefulSets and PVCs are never pruned here (the planner owns them)",
    [own("apps/v1", "StatefulSet", "db"), own("v1", "PersistentVolumeClaim", "data-db-4")],
    [],
  ],
];

describe("toPrune", () => {
  it.each(table)("%s", (_, existing, want) => {
    expect(
      toPrune(desired, existing, "u1").map((o) => `${o.apiVersion}/${o.kind}/${o.name}`),
    ).toEqual(want);
  });
});
