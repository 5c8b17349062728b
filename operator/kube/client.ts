/**
 * Every call the operator makes to the Kubernetes API, on `@kubernetes/client-node` 1.x:
 * server-side apply with one field manager, status apply, scale, reads and deletes.
 */
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
  type V1PersistentVolumeClaim,
  type V1Pod,
  type V1Secret,
  type V1StatefulSet,
} from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import type { IEvent } from "kubernetes-models/v1/Event";
import type { EventSpec } from "../reconcile/events.js";
import type { ObjectRef, OwnedObject } from "../reconcile/prune.js";
import {
  GROUP,
  PLURAL,
  VERSION,
  type JuraftCluster,
  type JuraftClusterStatus,
} from "../api/types.js";
import { FIELD_MANAGER } from "../reconcile/names.js";

/** The HTTP status of an API error, if it is one (client-node throws ApiException with `code`). */
export function httpStatusOf(err: unknown): number | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const code = (err as { code?: unknown; statusCode?: unknown }).code;
  return typeof code === "number" ? code : undefined;
}

const applyHeaders = setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply);
const mergeHeaders = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

/** What {@link Kube.apply} accepts: any typed Kubernetes object. */
export interface AppliedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
}

/** The operator's API client. */
export class Kube {
  readonly #objects: KubernetesObjectApi;
  readonly #core: CoreV1Api;
  readonly #apps: AppsV1Api;
  readonly #custom: CustomObjectsApi;

  constructor(kc: KubeConfig) {
    this.#objects = KubernetesObjectApi.makeApiClient(kc);
    this.#core = kc.makeApiClient(CoreV1Api);
    this.#apps = kc.makeApiClient(AppsV1Api);
    this.#custom = kc.makeApiClient(CustomObjectsApi);
  }

  /** Server-side apply of a whole desired object (force: this operator owns these fields). */
  async apply(obj: AppliedObject): Promise<void> {
    // The builders type objects with kubernetes-models (string timestamps); the wire is the same.
    const o = obj as unknown as KubernetesObject;
    await this.#objects.patch(
      o,
      undefined,
      undefined,
      FIELD_MANAGER,
      true,
      PatchStrategy.ServerSideApply,
    );
  }

  /** A JuraftCluster, or undefined when it does not exist. */
  async getCluster(namespace: string, name: string): Promise<JuraftCluster | undefined> {
    return orUndefined(
      this.#custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace,
        name,
      }),
    ) as Promise<JuraftCluster | undefined>;
  }

  /** Server-side apply of the status subresource (only name, namespace and status are sent). */
  async applyClusterStatus(c: JuraftCluster, status: JuraftClusterStatus): Promise<void> {
    const { name, namespace = "" } = c.metadata;
    await this.#custom.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace,
        name,
        fieldManager: FIELD_MANAGER,
        force: true,
        body: { apiVersion: c.apiVersion, kind: c.kind, metadata: { name, namespace }, status },
      },
      applyHeaders,
    );
  }

  /** Sets the replica count through the JuraftCluster's `/scale` subresource (as kubectl scale). */
  async scaleCluster(namespace: string, name: string, replicas: number): Promise<void> {
    await this.#custom.patchNamespacedCustomObjectScale(
      {
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace,
        name,
        body: { spec: { replicas } },
      },
      mergeHeaders,
    );
  }

  /** The StatefulSet, or undefined. */
  getStatefulSet(namespace: string, name: string): Promise<V1StatefulSet | undefined> {
    return orUndefined(this.#apps.readNamespacedStatefulSet({ namespace, name }));
  }

  /** A Secret, or undefined. */
  getSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    return orUndefined(this.#core.readNamespacedSecret({ namespace, name }));
  }

  /** Pods matching a label selector. */
  async listPods(namespace: string, labelSelector: string): Promise<V1Pod[]> {
    return (await this.#core.listNamespacedPod({ namespace, labelSelector })).items;
  }

  /** PVCs matching a label selector. */
  async listPvcs(namespace: string, labelSelector: string): Promise<V1PersistentVolumeClaim[]> {
    return (await this.#core.listNamespacedPersistentVolumeClaim({ namespace, labelSelector }))
      .items;
  }

  /** Objects of a kind in a namespace matching a label selector, with their controller UIDs. */
  async listOwned(
    apiVersion: string,
    kind: string,
    namespace: string,
    labelSelector: string,
  ): Promise<OwnedObject[]> {
    const list = await this.#objects.list(
      apiVersion,
      kind,
      namespace,
      undefined,
      undefined,
      undefined,
      undefined,
      labelSelector,
    );
    return list.items.map((o) => ({
      apiVersion,
      kind,
      name: o.metadata?.name ?? "",
      controllerUids: (o.metadata?.ownerReferences ?? [])
        .filter((r) => r.controller === true)
        .map((r) => r.uid),
    }));
  }

  /** Deletes an object (absent is fine). */
  async deleteObject(namespace: string, ref: ObjectRef): Promise<void> {
    const o = {
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      metadata: { name: ref.name, namespace },
    };
    await orUndefined(this.#objects.delete(o as unknown as KubernetesObject));
  }

  /** Records a core/v1 Event about the JuraftCluster (`kubectl describe` shows it). */
  async createEvent(c: JuraftCluster, e: EventSpec, now: Date): Promise<void> {
    const { name, namespace = "", uid } = c.metadata;
    const time = now.toISOString();
    const event: IEvent = {
      apiVersion: "v1",
      kind: "Event",
      // The API's own naming: the object's name and a unique suffix.
      metadata: { name: `${name}.${randomBytes(8).toString("hex")}`, namespace },
      involvedObject: {
        apiVersion: c.apiVersion,
        kind: c.kind,
        name,
        namespace,
        ...(uid !== undefined ? { uid } : {}),
      },
      type: e.type,
      reason: e.reason,
      message: e.message,
      count: 1,
      firstTimestamp: time,
      lastTimestamp: time,
      source: { component: FIELD_MANAGER },
      reportingComponent: FIELD_MANAGER,
      reportingInstance: process.env["POD_NAME"] ?? FIELD_MANAGER,
    };
    await this.#objects.create(event as unknown as KubernetesObject);
  }

  /** Deletes a PVC (absent is fine). */
  async deletePvc(namespace: string, name: string): Promise<void> {
    await orUndefined(this.#core.deleteNamespacedPersistentVolumeClaim({ namespace, name }));
  }
}

/** The promise's value, or undefined on 404 Not Found. */
export async function orUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (httpStatusOf(err) === 404) return undefined;
    throw err;
  }
}
