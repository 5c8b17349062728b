/**
 * An in-process fake Kubernetes API server speaking the real HTTP API, enough for the operator:
 * discovery, list, get, create, update (409 on a stale resourceVersion), delete, JSON merge patch,
 * server-side apply (a field manager is required), the status and scale subresources, and watch
 * from a resourceVersion with bookmarks and 410 Gone after {@link FakeApiServer.compact}.
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { RESOURCES, clone, mergePatch, status, type Obj, type Resource } from "./fake-resources.js";

interface Event {
  readonly rv: number;
  readonly type: "ADDED" | "MODIFIED" | "DELETED";
  readonly res: Resource;
  readonly object: Obj;
}
interface Watcher {
  readonly res: Resource;
  readonly ns: string | undefined;
  readonly out: http.ServerResponse;
}

/** The fake API server. */
export class FakeApiServer {
  readonly #objects = new Map<string, Obj>();
  #history: Event[] = [];
  readonly #watchers = new Set<Watcher>();
  #rv = 100;
  /** Watches from a version below this get 410 Gone. */
  #floor = 0;
  #server: http.Server | undefined;
  /** Every request, as `METHOD path?query content-type` (for assertions). */
  readonly requests: string[] = [];

  /** Starts listening on a free loopback port; resolves with the base URL. */
  async start(): Promise<string> {
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        this.#handle(req, res, body);
      });
    });
    this.#server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Ends every watch and stops the server. */
  async stop(): Promise<void> {
    this.closeWatches();
    const server = this.#server;
    if (server === undefined) return;
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeAllConnections();
    await closed;
  }

  /** Ends every open watch (clients must re-watch from their last resourceVersion). */
  closeWatches(): void {
    for (const w of this.#watchers) w.out.end();
    this.#watchers.clear();
  }

  /** Forgets the event history: resuming a watch from an older version gets 410 Gone. */
  compact(): void {
    this.#history = [];
    this.#floor = ++this.#rv;
    this.closeWatches();
  }

  /** An object, or undefined. */
  get(plural: string, ns: string, name: string): Obj | undefined {
    const o = this.#objects.get(`${plural}/${ns}/${name}`);
    return o === undefined ? undefined : clone(o);
  }

  /** Objects of a kind in a namespace. */
  list(plural: string, ns?: string): Obj[] {
    return [...this.#objects.entries()]
      .filter(([k]) => k.startsWith(`${plural}/${ns ?? ""}`))
      .map(([, o]) => clone(o));
  }

  /** Writes an object directly, as another controller (a kubelet) would. */
  put(plural: string, obj: Obj): Obj {
    const res = RESOURCES.find((r) => r.plural === plural);
    if (res === undefined) throw new Error(`unknown resource ${plural}`);
    return this.#store(res, obj.metadata.namespace ?? "", obj);
  }

  /** Deletes an object directly. */
  remove(plural: string, ns: string, name: string): void {
    const res = RESOURCES.find((r) => r.plural === plural);
    const o = this.#objects.get(`${plural}/${ns}/${name}`);
    if (res === undefined || o === undefined) return;
    this.#objects.delete(`${plural}/${ns}/${name}`);
    this.#emit(res, "DELETED", {
      ...o,
      metadata: { ...o.metadata, resourceVersion: String(++this.#rv) },
    });
  }

  #store(res: Resource, ns: string, obj: Obj): Obj {
    const key = `${res.plural}/${ns}/${obj.metadata.name}`;
    const old = this.#objects.get(key);
    const specChanged = JSON.stringify(old?.["spec"]) !== JSON.stringify(obj["spec"]);
    const oldGen = Number(old?.metadata["generation"] ?? 0);
    const stored: Obj = {
      ...obj,
      apiVersion: res.group === "" ? res.version : `${res.group}/${res.version}`,
      kind: res.kind,
      metadata: {
        ...obj.metadata,
        namespace: ns,
        uid: old?.metadata["uid"] ?? randomUUID(),
        creationTimestamp: old?.metadata["creationTimestamp"] ?? new Date().toISOString(),
        generation: old === undefined ? 1 : specChanged ? oldGen + 1 : oldGen,
        resourceVersion: String(++this.#rv),
      },
    };
    this.#objects.set(key, stored);
    this.#emit(res, old === undefined ? "ADDED" : "MODIFIED", stored);
    return clone(stored);
  }

  #emit(res: Resource, type: Event["type"], object: Obj): void {
    const ev: Event = { rv: this.#rv, type, res, object: clone(object) };
    this.#history.push(ev);
    for (const w of this.#watchers) this.#send(w, ev);
  }

  #send(w: Watcher, ev: Event): void {
    if (ev.res !== w.res || (w.ns !== undefined && ev.object.metadata.namespace !== w.ns)) return;
    w.out.write(JSON.stringify({ type: ev.type, object: ev.object }) + "\n");
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
    const url = new URL(req.url ?? "/", "http://fake");
    const ct = req.headers["content-type"] ?? "";
    this.requests.push(`${req.method ?? ""} ${url.pathname}${url.search} ${ct}`.trim());
    const reply = (code: number, value: unknown): void => {
      res.writeHead(code, { "content-type": "application/json" });
      res.end(JSON.stringify(value));
    };
    try {
      const r = this.#route(req.method ?? "GET", url, ct, body, res);
      if (r !== undefined) reply(r[0], r[1]);
    } catch (err) {
      reply(500, status(500, "InternalError", String(err)));
    }
  }

  #route(
    method: string,
    url: URL,
    ct: string,
    body: string,
    res: http.ServerResponse,
  ): [number, unknown] | undefined {
    const parts = url.pathname.split("/").filter((p) => p !== "");
    // Discovery: /api/v1 and /apis/<group>/<version>.
    const core = parts[0] === "api";
    const group = core ? "" : (parts[1] ?? "");
    const version = core ? (parts[1] ?? "") : (parts[2] ?? "");
    const rest = parts.slice(core ? 2 : 3);
    if (rest.length === 0) {
      const resources = RESOURCES.filter((r) => r.group === group && r.version === version);
      if (resources.length === 0) return [404, status(404, "NotFound", url.pathname)];
      return [
        200,
        {
          kind: "APIResourceList",
          apiVersion: "v1",
          groupVersion: core ? version : `${group}/${version}`,
          resources: resources.map((r) => ({
            name: r.plural,
            namespaced: true,
            kind: r.kind,
            verbs: [],
          })),
        },
      ];
    }
    const namespaced = rest[0] === "namespaces";
    const ns = namespaced ? rest[1] : undefined;
    const [plural, name, sub] = namespaced ? rest.slice(2) : rest;
    const r = RESOURCES.find(
      (x) => x.group === group && x.version === version && x.plural === plural,
    );
    if (r === undefined) return [404, status(404, "NotFound", `no resource ${url.pathname}`)];
    if (name === undefined) return this.#collection(method, r, ns, url, body, res);
    if (ns === undefined) return [404, status(404, "NotFound", "cluster-scoped")];
    return this.#object(method, r, ns, name, sub, ct, body, url);
  }

  #collection(
    method: string,
    r: Resource,
    ns: string | undefined,
    url: URL,
    body: string,
    res: http.ServerResponse,
  ): [number, unknown] | undefined {
    if (method === "POST") {
      if (ns === undefined)
        return [405, status(405, "MethodNotAllowed", "create needs a namespace")];
      const obj = JSON.parse(body) as Obj;
      if (this.#objects.has(`${r.plural}/${ns}/${obj.metadata.name}`))
        return [
          409,
          status(409, "AlreadyExists", `${r.plural} "${obj.metadata.name}" already exists`),
        ];
      return [
        201,
        this.#store(r, ns, { ...obj, metadata: { ...obj.metadata, resourceVersion: "" } }),
      ];
    }
    const selector = (url.searchParams.get("labelSelector") ?? "")
      .split(",")
      .filter((s) => s !== "");
    const match = (o: Obj): boolean =>
      (ns === undefined || o.metadata.namespace === ns) &&
      selector.every((s) => {
        const [k, v] = s.split("=");
        return (o.metadata["labels"] as Record<string, string> | undefined)?.[k ?? ""] === v;
      });
    if (url.searchParams.get("watch") === "true") {
      const from = Number(url.searchParams.get("resourceVersion") ?? "0");
      const gone = from !== 0 && from < this.#floor;
      res.writeHead(200, { "content-type": "application/json" });
      if (gone) {
        res.end(
          JSON.stringify({
            type: "ERROR",
            object: status(410, "Expired", `too old resource version: ${from}`),
          }) + "\n",
        );
        return undefined;
      }
      const w: Watcher = { res: r, ns, out: res };
      for (const ev of this.#history) if (ev.rv > from) this.#send(w, ev);
      if (url.searchParams.get("allowWatchBookmarks") === "true")
        res.write(
          JSON.stringify({
            type: "BOOKMARK",
            object: { kind: r.kind, metadata: { resourceVersion: String(this.#rv) } },
          }) + "\n",
        );
      this.#watchers.add(w);
      res.on("close", () => this.#watchers.delete(w));
      return undefined;
    }
    const items = [...this.#objects.entries()]
      .filter(([k, o]) => k.startsWith(`${r.plural}/`) && match(o))
      .map(([, o]) => o);
    return [
      200,
      {
        apiVersion: r.group === "" ? r.version : `${r.group}/${r.version}`,
        kind: `${r.kind}List`,
        metadata: { resourceVersion: String(this.#rv) },
        items,
      },
    ];
  }

  #object(
    method: string,
    r: Resource,
    ns: string,
    name: string,
    sub: string | undefined,
    ct: string,
    body: string,
    url: URL,
  ): [number, unknown] {
    const key = `${r.plural}/${ns}/${name}`;
    const cur = this.#objects.get(key);
    const notFound: [number, unknown] = [
      404,
      status(404, "NotFound", `${r.plural} "${name}" not found`),
    ];
    if (
      (sub === "status" && !r.statusSub) ||
      (sub === "scale" && !r.scaleSub) ||
      (sub !== undefined && sub !== "status" && sub !== "scale")
    )
      return [404, status(404, "NotFound", `no subresource ${sub}`)];
    if (method === "GET") {
      if (cur === undefined) return notFound;
      return [200, sub === "scale" ? this.#scaleOf(cur) : cur];
    }
    if (method === "DELETE") {
      if (cur === undefined) return notFound;
      this.remove(r.plural, ns, name);
      return [200, status(200, "", "deleted")];
    }
    const input = JSON.parse(body) as Obj;
    const inputRv = (input.metadata as Obj["metadata"] | undefined)?.resourceVersion;
    if (
      inputRv !== undefined &&
      inputRv !== "" &&
      cur !== undefined &&
      inputRv !== cur.metadata.resourceVersion
    )
      return [
        409,
        status(
          409,
          "Conflict",
          `Operation cannot be fulfilled on ${r.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        ),
      ];
    let next: Obj;
    if (method === "PUT") {
      if (cur === undefined) return notFound;
      next = input;
    } else if (method === "PATCH") {
      const apply = ct.startsWith("application/apply-patch");
      if (apply && url.searchParams.get("fieldManager") === null)
        return [400, status(400, "BadRequest", "fieldManager is required for apply patch")];
      if (!apply && !ct.startsWith("application/merge-patch+json"))
        return [415, status(415, "UnsupportedMediaType", `unsupported patch type ${ct}`)];
      if (cur === undefined && !apply) return notFound;
      if (sub === "scale") {
        const replicas = (input["spec"] as { replicas?: number } | undefined)?.replicas;
        if (cur === undefined) return notFound;
        next = mergePatch(cur, { spec: { replicas } }) as Obj;
        return [200, this.#scaleOf(this.#store(r, ns, next))];
      }
      next = mergePatch(cur ?? {}, input) as Obj;
    } else return [405, status(405, "MethodNotAllowed", method)];
    if (r.statusSub && cur !== undefined) {
      // The object endpoint ignores status; the status endpoint changes nothing else.
      next =
        sub === "status" ? { ...cur, status: next["status"] } : { ...next, status: cur["status"] };
    } else if (r.statusSub && cur === undefined) Reflect.deleteProperty(next, "status");
    return [
      cur === undefined ? 201 : 200,
      this.#store(r, ns, { ...next, metadata: { ...next.metadata, name } }),
    ];
  }

  #scaleOf(o: Obj): Record<string, unknown> {
    const spec = o["spec"] as { replicas?: number } | undefined;
    const st = o["status"] as { replicas?: number; selector?: string } | undefined;
    return {
      apiVersion: "autoscaling/v1",
      kind: "Scale",
      metadata: {
        name: o.metadata.name,
        namespace: o.metadata.namespace,
        resourceVersion: o.metadata.resourceVersion,
      },
      spec: { replicas: spec?.replicas ?? 0 },
      status: {
        replicas: st?.replicas ?? 0,
        ...(st?.selector !== undefined ? { selector: st.selector } : {}),
      },
    };
  }
}
