/**
 * A test "kubelet" (with the StatefulSet controller's part) over the fake API server: it keeps
 * one PVC and one pod per ordinal below each StatefulSet's replicas, runs each pod's container
 * as a real `juraft serve` process, probes its health (gRPC, or the exec command) into the pod's
 * Ready condition, records a failed container's termination, restarts it, and stops it (SIGTERM,
 * SIGKILL after the grace period) when the pod goes. It runs the container's own command,
 * arguments and environment, translating only what a node differs in: addresses (each pod gets
 * 127.0.0.x and kernel-chosen ports), mount paths (a directory per PVC, per ConfigMap, per Secret
 * and per emptyDir) and the pod's DNS server. Deleting a PVC deletes its directory.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chmod, mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { JURAFT } from "../process/harness.js";
import type { FakeApiServer } from "./fake-apiserver.js";
import type { Obj } from "./fake-resources.js";
import {
  execCommand,
  execProbe,
  freePortOn,
  grpcProbe,
  mountMapper,
  terminationOf,
  translateArg,
  type PodSpec,
  type StsSpec,
  type Terminated,
} from "./kubelet-container.js";

/** A pod's container process. */
interface Run {
  readonly pod: string;
  /** The pod object's UID: a pod recreated under the same name is another pod. */
  readonly podUid: string;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  readonly volumeUid: string;
  output: string;
  stopping: boolean;
  ready: boolean;
  /** Consecutive failed probes (the probe's failureThreshold turns a ready pod not ready). */
  failures: number;
  readonly probe: { timeoutMs: number; failureThreshold: number; exec?: string[] };
  /** Kept as the termination message when the container fails (FallbackToLogsOnError). */
  readonly logsOnError: boolean;
  readonly container: string;
  exitRecorded: boolean;
}

const MAX_ORDINALS = 8;

/** The kubelet; `start()` begins syncing, `stop()` ends every process. */
export class Kubelet {
  readonly #api: FakeApiServer;
  readonly #ns: string;
  readonly #root: string;
  readonly #dnsPort: number;
  /** Pod name -> the host:port its container listens on (stable across restarts). */
  readonly #addresses = new Map<string, string>();
  /** Pod name -> the host:port of its peer listener (`--peer-listen`, with TLS). */
  readonly #peerAddresses = new Map<string, string>();
  readonly #runs = new Map<string, Run>();
  /** Processes of pods that are gone but have not exited yet. */
  readonly #stopping = new Set<Run>();
  #timer: NodeJS.Timeout | undefined;
  #syncing = false;
  #lastProbe = 0;
  #stopped = false;
  /** Container starts, per pod (restarts included). */
  readonly starts = new Map<string, number>();

  private constructor(api: FakeApiServer, ns: string, root: string, dnsPort: number) {
    this.#api = api;
    this.#ns = ns;
    this.#root = root;
    this.#dnsPort = dnsPort;
  }

  /** A kubelet for the pods of `sts` (ordinals 0..7 get their addresses now). */
  static async create(o: {
    api: FakeApiServer;
    namespace: string;
    statefulSet: string;
    root: string;
    dnsPort: number;
  }): Promise<Kubelet> {
    const k = new Kubelet(o.api, o.namespace, o.root, o.dnsPort);
    for (let i = 0; i < MAX_ORDINALS; i++) {
      const host = `127.0.0.${11 + i}`;
      k.#addresses.set(`${o.statefulSet}-${i}`, `${host}:${await freePortOn(host)}`);
      k.#peerAddresses.set(`${o.statefulSet}-${i}`, `${host}:${await freePortOn(host)}`);
    }
    const bin = join(o.root, "bin");
    await mkdir(bin, { recursive: true });
    // The image's `juraft` on PATH: this repository's entry point.
    await writeFile(
      join(bin, "juraft"),
      `#!/bin/sh\nexec "${process.execPath}" "${JURAFT}" "$@"\n`,
    );
    await chmod(join(bin, "juraft"), 0o755);
    return k;
  }

  /** The host:port a pod listens on, or undefined. */
  addressOf(pod: string): string | undefined {
    return this.#addresses.get(pod);
  }

  /** The host:port of a pod's peer listener (used with `--peer-listen`), or undefined. */
  peerAddressOf(pod: string): string | undefined {
    return this.#peerAddresses.get(pod);
  }

  /** Pods with a running container: the headless Service's endpoints (not-ready included). */
  endpoints(): { pod: string; host: string; port: number; peerPort: number }[] {
    return [...this.#runs.values()]
      .filter((r) => !r.stopping)
      .map((r) => {
        const [host = "", port = "0"] = (this.#addresses.get(r.pod) ?? "").split(":");
        const [, peerPort = "0"] = (this.#peerAddresses.get(r.pod) ?? "").split(":");
        return { pod: r.pod, host, port: Number(port), peerPort: Number(peerPort) };
      });
  }

  /** The last output of a pod's container (for failure messages). */
  output(pod: string, chars = 3000): string {
    return (this.#history.get(pod) ?? "(never ran)").slice(-chars);
  }

  /** Every container's output, per pod, across restarts. */
  readonly #history = new Map<string, string>();

  /** Pods whose container must not be restarted now (their volume is being changed). */
  readonly #held = new Set<string>();
  /** The last termination of each pod's container, and its restart count. */
  readonly #terminated = new Map<string, Terminated>();
  readonly #restarts = new Map<string, number>();

  /**
   * Empties a pod's data directory under the same PVC: kills the container, deletes everything in
   * the volume, and lets the kubelet restart it (a disk wiped under a running pod).
   */
  async wipeData(pod: string): Promise<void> {
    const r = this.#runs.get(pod);
    if (r === undefined) throw new Error(`wipe data of ${pod}: no container runs`);
    this.#held.add(pod);
    try {
      r.child.kill("SIGKILL");
      await r.exited;
      const dir = join(this.#root, "volumes", r.volumeUid);
      const files = await readdir(dir);
      for (const f of files) await rm(join(dir, f), { recursive: true, force: true });
      const left = await readdir(dir);
      this.#history.set(
        pod,
        `${this.#history.get(pod) ?? ""}kubelet: wiped ${dir} (${files.join(", ")}); left: ${left.join(", ")}\n`,
      );
    } finally {
      this.#held.delete(pod);
    }
  }

  /** `kill -9` of a pod's container: the kubelet restarts it (restartPolicy Always). */
  crash(pod: string): void {
    this.#runs.get(pod)?.child.kill("SIGKILL");
  }

  /** Starts syncing every 100 ms. */
  start(): void {
    this.#timer = setInterval(() => {
      if (this.#syncing || this.#stopped) return;
      this.#syncing = true;
      this.#sync()
        .catch((err: unknown) => {
          process.stderr.write(`kubelet sync failed: ${String(err)}\n`);
        })
        .finally(() => {
          this.#syncing = false;
        });
    }, 100);
  }

  /** Stops syncing and kills every container. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    const all = [...this.#runs.values(), ...this.#stopping];
    for (const r of all) r.child.kill("SIGKILL");
    await Promise.all(all.map((r) => r.exited));
  }

  async #sync(): Promise<void> {
    for (const sts of this.#api.list("statefulsets", this.#ns)) this.#statefulSet(sts);
    const pods = this.#api.list("pods", this.#ns);
    const uids = new Set(pods.map((p) => String(p.metadata["uid"])));
    // Pods deleted from the API (perhaps already recreated under the same name): stop them.
    for (const [name, r] of this.#runs)
      if (!uids.has(r.podUid)) {
        this.#runs.delete(name);
        this.#terminated.delete(name);
        this.#restarts.delete(name);
        this.#terminate(r, 10);
      }
    for (const pod of pods) await this.#pod(pod);
    await this.#wipeDeletedVolumes();
    // Probes every 500 ms: the template's periodSeconds scaled down 10 times, as the ticks are.
    if (Date.now() - this.#lastProbe >= 500) {
      this.#lastProbe = Date.now();
      await Promise.all([...this.#runs.values()].map((r) => this.#probe(r)));
    }
  }

  /** The StatefulSet controller's part: PVCs and pods follow `replicas` (Parallel policy). */
  #statefulSet(sts: Obj): void {
    const spec = sts["spec"] as StsSpec;
    const name = sts.metadata.name;
    for (let o = 0; o < MAX_ORDINALS; o++) {
      const pod = `${name}-${o}`;
      const existing = this.#api.get("pods", this.#ns, pod);
      if (o < spec.replicas) {
        for (const t of spec.volumeClaimTemplates ?? []) {
          const pvc = `${t.metadata.name}-${pod}`;
          if (this.#api.get("persistentvolumeclaims", this.#ns, pvc) === undefined)
            this.#api.put("persistentvolumeclaims", {
              metadata: { name: pvc, namespace: this.#ns, labels: t.metadata.labels ?? {} },
              spec: {},
              status: { phase: "Bound" },
            });
        }
        if (existing === undefined)
          this.#api.put("pods", {
            metadata: { name: pod, namespace: this.#ns, labels: spec.template.metadata.labels },
            spec: spec.template.spec,
            status: { phase: "Pending" },
          });
      } else if (existing !== undefined && existing.metadata["deletionTimestamp"] === undefined) {
        // Graceful deletion: the pod stays (terminating) until its container has exited.
        this.#api.put("pods", {
          ...existing,
          metadata: { ...existing.metadata, deletionTimestamp: new Date().toISOString() },
        });
      }
    }
  }

  async #pod(pod: Obj): Promise<void> {
    const name = pod.metadata.name;
    const run = this.#runs.get(name);
    const spec = pod["spec"] as PodSpec;
    const grace = Math.min(spec.terminationGracePeriodSeconds ?? 30, 10);
    if (pod.metadata["deletionTimestamp"] !== undefined) {
      if (run === undefined) this.#api.remove("pods", this.#ns, name);
      else if (!run.stopping) {
        this.#runs.delete(name);
        this.#terminate(run, grace, () => {
          this.#api.remove("pods", this.#ns, name);
        });
      }
      return;
    }
    if (run !== undefined && run.child.exitCode === null && run.child.signalCode === null) return;
    if (run !== undefined && !run.exitRecorded) this.#recordExit(run);
    if (this.#held.has(name)) return;
    // A previous container of this pod name still exiting: wait (its volume is in use).
    if ([...this.#stopping].some((r) => r.pod === name)) return;
    if (run !== undefined && Date.now() - (this.#lastStart.get(name) ?? 0) < 1000) return;
    await this.#startContainer(pod, spec);
  }

  readonly #lastStart = new Map<string, number>();

  async #startContainer(pod: Obj, spec: PodSpec): Promise<void> {
    const name = pod.metadata.name;
    const container = spec.containers[0];
    if (container === undefined) throw new Error(`pod ${name} has no container`);
    const addr = this.#addresses.get(name);
    if (addr === undefined) throw new Error(`pod ${name}: no address`);
    // Mounts: the PVC of the claim template, the ConfigMap's files, emptyDirs.
    const mounts: [string, string][] = [];
    let volumeUid = "";
    for (const m of container.volumeMounts ?? []) {
      const vol = spec.volumes?.find((v) => v.name === m.name);
      let dir: string;
      if (vol === undefined) {
        const pvc = this.#api.get("persistentvolumeclaims", this.#ns, `${m.name}-${name}`);
        const uid = pvc?.metadata["uid"];
        if (typeof uid !== "string") return; // not bound yet: the pod stays Pending
        volumeUid = uid;
        dir = join(this.#root, "volumes", uid);
      } else if (vol.secret !== undefined) {
        dir = join(this.#root, "pods", name, m.name);
        await mkdir(dir, { recursive: true });
        const secret = this.#api.get("secrets", this.#ns, vol.secret.secretName);
        if (secret === undefined) return; // the kubelet waits for the Secret: pod Pending
        const data = (secret["data"] ?? {}) as Record<string, string>;
        for (const [k, v] of Object.entries(data))
          await writeFile(join(dir, k), Buffer.from(v, "base64"), { mode: 0o440 });
      } else if (vol.configMap !== undefined) {
        dir = join(this.#root, "pods", name, m.name);
        await mkdir(dir, { recursive: true });
        const cm = this.#api.get("configmaps", this.#ns, vol.configMap.name);
        const data = (cm?.["data"] ?? {}) as Record<string, string>;
        for (const [k, v] of Object.entries(data)) await writeFile(join(dir, k), v);
      } else dir = join(this.#root, "pods", name, m.name);
      await mkdir(dir, { recursive: true });
      mounts.push([m.mountPath, dir]);
    }
    const mapPaths = mountMapper(mounts);
    const env: Record<string, string> = {};
    for (const e of container.env ?? []) {
      const field = e.valueFrom?.fieldRef?.fieldPath;
      env[e.name] = field === "metadata.name" ? name : mapPaths(e.value ?? "");
    }
    const expand = (s: string): string =>
      s.replace(/\$\(([A-Z_][A-Z0-9_]*)\)/g, (m, v: string) => env[v] ?? m);
    const args = container.args.map((a) =>
      translateArg(mapPaths(expand(a)), addr, this.#peerAddresses.get(name) ?? ""),
    );
    // The pod's resolver: the cluster DNS (here the in-process zone).
    args.push(`--dns-server=127.0.0.1:${String(this.#dnsPort)}`);
    const [cmd = "", ...cmdArgs] = container.command.map(mapPaths);
    const childEnv: NodeJS.ProcessEnv = {
      ...process.env,
      ...env,
      PATH: `${join(this.#root, "bin")}:${process.env["PATH"] ?? ""}`,
    };
    delete childEnv["NODE_OPTIONS"];
    delete childEnv["JURAFT_ENDPOINTS"];
    const child = spawn(cmd, [...cmdArgs, ...args], {
      env: childEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<void>((resolve) => {
      child.once("exit", () => {
        resolve();
      });
    });
    const run: Run = {
      pod: name,
      podUid: String(pod.metadata["uid"]),
      child,
      exited,
      volumeUid,
      output: "",
      stopping: false,
      ready: false,
      failures: 0,
      logsOnError: container.terminationMessagePolicy === "FallbackToLogsOnError",
      container: container.name,
      exitRecorded: false,
      probe: {
        timeoutMs: (container.readinessProbe?.timeoutSeconds ?? 1) * 1000,
        failureThreshold: container.readinessProbe?.failureThreshold ?? 3,
        ...(container.readinessProbe?.exec !== undefined
          ? { exec: execCommand(container.readinessProbe.exec.command, mapPaths, addr) }
          : {}),
      },
    };
    const keep = (b: Buffer): void => {
      run.output = (run.output + b.toString()).slice(-20_000);
      this.#history.set(name, ((this.#history.get(name) ?? "") + b.toString()).slice(-200_000));
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    if (this.#runs.has(name)) this.#restarts.set(name, (this.#restarts.get(name) ?? 0) + 1);
    this.#runs.set(name, run);
    this.#lastStart.set(name, Date.now());
    this.starts.set(name, (this.starts.get(name) ?? 0) + 1);
    this.#setStatus(name, false);
  }

  /** Records a container's exit (its termination, kept as the pod's last state). */
  #recordExit(r: Run): void {
    r.exitRecorded = true;
    r.ready = false;
    this.#terminated.set(r.pod, terminationOf(r.child.exitCode ?? 137, r.output, r.logsOnError));
    this.#setStatus(r.pod, false);
  }

  /** SIGTERM, then SIGKILL after `graceSeconds`; `done` runs once the process has exited. */
  #terminate(r: Run, graceSeconds: number, done?: () => void): void {
    r.stopping = true;
    this.#stopping.add(r);
    r.child.kill("SIGTERM");
    const timer = setTimeout(() => r.child.kill("SIGKILL"), graceSeconds * 1000);
    void r.exited.then(() => {
      clearTimeout(timer);
      this.#stopping.delete(r);
      done?.();
    });
  }

  /** Volumes whose PVC is gone and whose pod has stopped: their data goes. */
  async #wipeDeletedVolumes(): Promise<void> {
    const live = new Set(
      this.#api.list("persistentvolumeclaims", this.#ns).map((p) => String(p.metadata["uid"])),
    );
    const inUse = new Set([...this.#runs.values(), ...this.#stopping].map((r) => r.volumeUid));
    for (const uid of this.#known) {
      if (live.has(uid) || inUse.has(uid)) continue;
      await rm(join(this.#root, "volumes", uid), { recursive: true, force: true });
      this.#known.delete(uid);
    }
    for (const r of this.#runs.values()) this.#known.add(r.volumeUid);
  }

  readonly #known = new Set<string>();

  /** The readiness probe: grpc.health.v1 Check on the container port, or the exec command. */
  async #probe(r: Run): Promise<void> {
    const addr = this.#addresses.get(r.pod);
    if (addr === undefined || r.stopping) return;
    let ready = false;
    if (r.probe.exec !== undefined) {
      if (r.child.exitCode === null && r.child.signalCode === null)
        ready = await execProbe(r.probe.exec, r.probe.timeoutMs);
    } else if (r.child.exitCode === null && r.child.signalCode === null) {
      ready = await grpcProbe(addr, r.probe.timeoutMs);
    }
    r.failures = ready ? 0 : r.failures + 1;
    const exited = r.child.exitCode !== null || r.child.signalCode !== null;
    const next = ready || (r.ready && !exited && r.failures < r.probe.failureThreshold);
    if (next !== r.ready && this.#runs.get(r.pod) === r) {
      r.ready = next;
      this.#setStatus(r.pod, next);
    }
  }

  #setStatus(pod: string, ready: boolean): void {
    const cur = this.#api.get("pods", this.#ns, pod);
    if (cur === undefined || cur.metadata["deletionTimestamp"] !== undefined) return;
    const [host] = (this.#addresses.get(pod) ?? "").split(":");
    const r = this.#runs.get(pod);
    const last = this.#terminated.get(pod);
    const running = r !== undefined && r.child.exitCode === null && r.child.signalCode === null;
    this.#api.put("pods", {
      ...cur,
      status: {
        phase: "Running",
        podIP: host,
        conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
        containerStatuses: [
          {
            name: r?.container ?? "",
            ready,
            restartCount: this.#restarts.get(pod) ?? 0,
            state: running ? { running: {} } : { waiting: { reason: "CrashLoopBackOff" } },
            ...(last !== undefined ? { lastState: { terminated: last } } : {}),
          },
        ],
      },
    });
  }
}
