/**
 * The test kubelet's view of one container (kubelet.ts): the pod template parts it reads, how it
 * maps paths and addresses into a pod, its probes, and what it records when a container exits.
 */
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { Http2SessionManager, createGrpcTransport } from "@connectrpc/connect-node";
import {
  Health,
  HealthCheckResponse_ServingStatus as Serving,
} from "../../proto/gen/grpc/health/v1/health_pb.js";
import { JURAFT } from "../process/harness.js";

/** The parts of a pod template the kubelet reads. */
export interface Container {
  name: string;
  command: string[];
  args: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  volumeMounts?: { name: string; mountPath: string }[];
  readinessProbe?: {
    timeoutSeconds?: number;
    failureThreshold?: number;
    exec?: { command: string[] };
  };
  terminationMessagePolicy?: string;
}
export interface PodSpec {
  containers: Container[];
  volumes?: {
    name: string;
    configMap?: { name: string };
    secret?: { secretName: string };
    emptyDir?: object;
  }[];
  terminationGracePeriodSeconds?: number;
}
export interface StsSpec {
  replicas: number;
  template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  volumeClaimTemplates?: { metadata: { name: string; labels?: Record<string, string> } }[];
}

/** `lastState.terminated` of a container status. */
export interface Terminated {
  exitCode: number;
  reason: string;
  message?: string;
  finishedAt: string;
}

/** The repository: the image's /app. */
const REPO = join(JURAFT, "..", "..", "..");

/** A free TCP port on `host`. */
export async function freePortOn(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, host, () => {
      const { port } = s.address() as { port: number };
      s.close(() => {
        resolve(port);
      });
    });
  });
}

/**
 * Maps mount paths (as whole path components, anywhere in a value or a script) to the kubelet's
 * directories in one pass: those directories may themselves lie under a mount path (/tmp).
 */
export function mountMapper(mounts: readonly (readonly [string, string])[]): (s: string) => string {
  if (mounts.length === 0) return (s) => s;
  const sorted = [...mounts].sort((a, b) => b[0].length - a[0].length);
  const escape = (p: string): string => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const re = new RegExp(
    `(^|[\\s="'])(${sorted.map(([from]) => escape(from)).join("|")})(?=$|[/\\s"'])`,
    "g",
  );
  return (s) =>
    s.replace(re, (_, pre: string, from: string) => {
      const to = sorted.find(([f]) => f === from)?.[1] ?? from;
      return `${pre}${to}`;
    });
}

/**
 * A `juraft serve` argument with the pod's addresses: its own loopback IP and ports instead of
 * 0.0.0.0 and the DNS names (every pod has its own IP in a cluster).
 */
export function translateArg(arg: string, addr: string, peerAddr: string): string {
  const [host = ""] = addr.split(":");
  if (arg.startsWith("--listen=") || arg.startsWith("--advertise="))
    return `${arg.slice(0, arg.indexOf("=") + 1)}${addr}`;
  if (arg.startsWith("--peer-listen=")) return `--peer-listen=${peerAddr}`;
  if (arg.startsWith("--metrics-listen=")) return `--metrics-listen=${host}:0`;
  return arg;
}

/** An exec probe's command as run in the pod: its files, the image's /app, its own address. */
export function execCommand(
  command: readonly string[],
  mapPaths: (s: string) => string,
  addr: string,
): string[] {
  return command.map((a) =>
    a === "node"
      ? process.execPath
      : mapPaths(a)
          .replace(/^\/app\//, `${REPO}/`)
          .replace(/^127\.0\.0\.1:7070$/, addr),
  );
}

/** Runs an exec probe; true when it exits 0 within the timeout. */
export function execProbe(command: readonly string[], timeoutMs: number): Promise<boolean> {
  const [cmd = "", ...args] = command;
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: "ignore", timeout: timeoutMs });
    child.once("error", () => {
      resolve(false);
    });
    child.once("exit", (code) => {
      resolve(code === 0);
    });
  });
}

/** Kubernetes' gRPC probe: grpc.health.v1 Check in cleartext; true when SERVING. */
export async function grpcProbe(addr: string, timeoutMs: number): Promise<boolean> {
  const sessionManager = new Http2SessionManager(`http://${addr}`);
  try {
    const health = createClient(
      Health,
      createGrpcTransport({ baseUrl: `http://${addr}`, sessionManager }),
    );
    const res = await health.check({}, { timeoutMs });
    return res.status === Serving.SERVING;
  } catch {
    return false; // not listening yet, or not serving: the probe fails
  } finally {
    sessionManager.abort();
  }
}

/**
 * A container's termination as the kubelet records it: on failure with FallbackToLogsOnError
 * the message is the log's tail (at most 80 lines and 2048 bytes).
 */
export function terminationOf(exitCode: number, output: string, logsOnError: boolean): Terminated {
  const tail = output.split("\n").slice(-80).join("\n").slice(-2048);
  return {
    exitCode,
    reason: exitCode === 0 ? "Completed" : "Error",
    ...(exitCode !== 0 && logsOnError ? { message: tail } : {}),
    finishedAt: new Date().toISOString(),
  };
}
