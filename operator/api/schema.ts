/** The OpenAPI v3 (structural) schema of JuraftCluster, mirroring `types.ts`. */

/** A JSON-schema node as the CRD stores it. */
export interface Schema {
  readonly type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
  readonly description?: string;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly additionalProperties?: Schema;
  readonly items?: Schema;
  readonly required?: readonly string[];
  readonly enum?: readonly string[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly format?: string;
  readonly pattern?: string;
  readonly "x-kubernetes-preserve-unknown-fields"?: boolean;
  readonly "x-kubernetes-list-type"?: "map" | "atomic" | "set";
  readonly "x-kubernetes-list-map-keys"?: readonly string[];
}

const str = (description: string): Schema => ({ type: "string", description });
const int = (description: string, minimum?: number): Schema => ({
  type: "integer",
  description,
  ...(minimum !== undefined ? { minimum } : {}),
});
const stringMap = (description: string): Schema => ({
  type: "object",
  description,
  additionalProperties: { type: "string" },
});
const opaque = (description: string): Schema => ({
  type: "object",
  description,
  "x-kubernetes-preserve-unknown-fields": true,
});
const opaqueList = (description: string): Schema => ({
  type: "array",
  description,
  items: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
});

const spec: Schema = {
  type: "object",
  description: "What the user asks for.",
  properties: {
    replicas: int("Number of voting members (>= 1; odd sizes recommended).", 1),
    image: str("Node image."),
    imagePullPolicy: { ...str("Image pull policy."), enum: ["Always", "IfNotPresent", "Never"] },
    resources: {
      type: "object",
      description: "Requests and limits of the node container.",
      properties: { requests: stringMap("Requests."), limits: stringMap("Limits.") },
    },
    storage: {
      type: "object",
      description: "The persistent volume of each member.",
      properties: {
        size: {
          ...str("Size of each member's volume."),
          pattern: "^[0-9]+(\\.[0-9]+)?([KMGTPE]i?)?$",
        },
        storageClassName: str("Storage class; the cluster default when absent."),
      },
    },
    raft: {
      type: "object",
      description: "Raft tuning passed to juraft serve.",
      properties: {
        tickMs: int("Milliseconds per Raft tick.", 1),
        snapshotEvery: int("Snapshot every n applied entries.", 1),
        snapshotTrailing: int("Entries kept behind a snapshot.", 0),
        catchUpLag: int("A learner within this many entries of the leader is promoted.", 1),
      },
    },
    txnMode: { ...str("Transaction semantics of a new cluster."), enum: ["client", "server"] },
    tls: {
      type: "object",
      description: "TLS: TLS on the client port, mutual TLS between members on the peer port 7071.",
      required: ["secretName"],
      properties: {
        secretName: str(
          "Secret with the members' tls.crt and tls.key (DNS names *.NAME-peers.NS.svc, *.NAME-peers.NS.svc.CLUSTER_DOMAIN, NAME.NS.svc; server and client use) and ca.crt.",
        ),
        clientSecretName: str(
          "Secret with the tls.crt, tls.key and ca.crt the operator presents to the nodes; default secretName.",
        ),
        clientAuth: {
          type: "boolean",
          description: "Clients must present a certificate signed by ca.crt; default true.",
        },
      },
    },
    tracing: {
      type: "object",
      description: "OpenTelemetry tracing.",
      required: ["otlpEndpoint"],
      properties: {
        otlpEndpoint: str("OTLP endpoint URL."),
        samplingRatio: { type: "number", description: "Fraction sampled.", minimum: 0, maximum: 1 },
      },
    },
    scheduling: {
      type: "object",
      description: "Pod scheduling overrides.",
      properties: {
        nodeSelector: stringMap("Node selector."),
        tolerations: opaqueList("Tolerations."),
        affinity: opaque("Affinity."),
        topologySpreadConstraints: opaqueList("Topology spread constraints."),
        priorityClassName: str("Priority class."),
      },
    },
    networkPolicy: {
      type: "object",
      description: "An optional NetworkPolicy admitting only peers, the operator and clients.",
      properties: {
        enabled: { type: "boolean", description: "Create the NetworkPolicy (default false)." },
        clientLabels: stringMap("Labels of the pods allowed as clients (same namespace)."),
      },
    },
  },
};

const status: Schema = {
  type: "object",
  description: "What the operator observed and decided.",
  properties: {
    replicas: int("Pods of the StatefulSet."),
    readyReplicas: int("Ready pods."),
    targetReplicas: int("The latched size being converged to."),
    members: {
      type: "array",
      description: "Raft members.",
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["name"],
      items: {
        type: "object",
        required: ["name", "id", "role", "caughtUp"],
        properties: {
          name: str("Member and pod name."),
          id: str("Raft member id."),
          role: { ...str("voter or learner."), enum: ["voter", "learner"] },
          caughtUp: { type: "boolean", description: "Within catchUpLag of the leader." },
          volume: str("UID of the PVC holding the member's data."),
        },
      },
    },
    leader: str("Name of the leader."),
    clusterId: str("The recorded Raft cluster id."),
    observedGeneration: { type: "integer", format: "int64", description: "Generation observed." },
    conditions: {
      type: "array",
      description: "Available, Progressing, Degraded.",
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["type"],
      items: {
        type: "object",
        required: ["type", "status", "reason", "message", "lastTransitionTime"],
        properties: {
          type: str("Condition type."),
          status: { ...str("True, False or Unknown."), enum: ["True", "False", "Unknown"] },
          reason: str("CamelCase reason."),
          message: str("Human message."),
          lastTransitionTime: { type: "string", format: "date-time", description: "Last change." },
          observedGeneration: { type: "integer", format: "int64", description: "Generation." },
        },
      },
    },
    selector: str("Label selector of the pods, serialised (for /scale)."),
  },
};

/** The schema of the whole resource. */
export const juraftClusterSchema: Schema = {
  type: "object",
  description: "A Raft-replicated juraft document store.",
  properties: {
    apiVersion: { type: "string" },
    kind: { type: "string" },
    metadata: { type: "object" },
    spec,
    status,
  },
};
