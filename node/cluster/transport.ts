import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import type { Message, NodeId, RaftLogger, SnapMessage } from "../raft/index.js";
import {
  InstallSnapshotRequestSchema,
  SendRequestSchema,
  type InstallSnapshotRequest,
} from "../../proto/gen/juraft/raft/v1/raft_pb.js";
import type { MemberBook } from "./members.js";
import type { PeerClients } from "./peer-clients.js";
import type { Transport, TransportReports } from "./ports.js";
import { messageToProto } from "./raft-codec.js";
import { RaftStreamWriter } from "./raw-stream.js";
import { clusterIdBytes, raftStreamPath, streamRequestFrame } from "./stream-codec.js";
import { encodeBatch } from "./wire-codec.js";

/** Settings of the peer transport. */
export interface PeerTransportOptions {
  readonly self: NodeId;
  readonly clusterId: string;
  readonly clients: PeerClients;
  readonly reports: TransportReports;
  readonly logger: RaftLogger;
  /** Messages queued per peer before new ones are dropped (Raft retries). Default 4096. */
  readonly maxQueue?: number;
  /** Messages per request. Default 256. */
  readonly maxBatch?: number;
  /** Per-request deadline. Default 5 s. */
  readonly timeoutMs?: number;
}

/**
 * Raft traffic over HTTP/2: per peer, one long-lived `RaftService.Stream` (gRPC frames written
 * directly on the stream, node/cluster/raw-stream.ts) carrying the batches in order (a bounded number of messages waits for it; overflow drops and reports the
 * peer unreachable); snapshots stream in chunks on their own calls.
 * Failures are reported to Raft (unreachable, snapshot failure), never thrown.
 */
export class PeerTransport implements Transport {
  readonly #o: PeerTransportOptions;
  readonly #peers = new Map<NodeId, Peer>();
  #closed = false;
  readonly #abort = new AbortController();

  /** Creates a transport with no peers. */
  constructor(o: PeerTransportOptions) {
    this.#o = o;
  }

  setMembers(members: MemberBook): void {
    const known = new Set<NodeId>();
    for (const [id, info] of members.entries()) {
      if (id === this.#o.self) continue;
      known.add(id);
      const p = this.#peers.get(id);
      if (p === undefined || p.address !== info.address) {
        p?.close();
        this.#peers.set(id, new Peer(id, info.address, this.#o, this.#abort.signal));
      }
    }
    for (const [id, p] of [...this.#peers]) {
      if (known.has(id)) continue;
      p.close();
      this.#peers.delete(id);
    }
  }

  send(messages: readonly Message[]): void {
    if (this.#closed) return;
    for (const m of messages) {
      const peer = this.#peers.get(m.to);
      if (peer === undefined) {
        this.#o.reports.reportUnreachable(m.to);
        continue;
      }
      peer.enqueue(m);
    }
  }

  sendSnapshot(message: SnapMessage, data: readonly Uint8Array[]): void {
    const peer = this.#peers.get(message.to);
    if (this.#closed || peer === undefined) {
      this.#o.reports.reportSnapshot(message.to, "failure");
      return;
    }
    peer.sendSnapshot(message, data);
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#abort.abort(new Error("transport closed"));
    this.#peers.clear();
    return Promise.resolve();
  }
}

class Peer {
  readonly id: NodeId;
  readonly address: string;
  readonly #o: PeerTransportOptions;
  readonly #signal: AbortSignal;
  /** Messages not yet handed to the stream (flushed at the end of this turn). */
  #pending: Message[] = [];
  #flushQueued = false;
  #stream: RaftStreamWriter | undefined;
  readonly #clusterId: Uint8Array;
  /** The peer lacks Stream (an older member): one Send per batch instead. */
  #unary = false;
  #sending = false;
  #snapshotting = false;

  constructor(id: NodeId, address: string, o: PeerTransportOptions, signal: AbortSignal) {
    this.id = id;
    this.address = address;
    this.#o = o;
    this.#signal = signal;
    this.#clusterId = clusterIdBytes(o.clusterId);
  }

  /** Whether the transport was closed (read through a call: awaits may change it). */
  #closed(): boolean {
    return this.#signal.aborted;
  }

  enqueue(m: Message): void {
    if (this.#pending.length + (this.#stream?.queued ?? 0) >= (this.#o.maxQueue ?? 4096)) {
      this.#o.reports.reportUnreachable(this.id);
      return;
    }
    this.#pending.push(m);
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    // A microtask: everything one Ready sends to this peer leaves as one batch, without delay.
    queueMicrotask(() => {
      this.#flush();
    });
  }

  #flush(): void {
    this.#flushQueued = false;
    if (this.#closed() || this.#pending.length === 0) return;
    if (this.#unary) {
      if (!this.#sending) void this.#drain();
      return;
    }
    const max = this.#o.maxBatch ?? 256;
    const stream = this.#open();
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, max);
      stream.push(batch.length, streamRequestFrame(this.#clusterId, encodeBatch(batch)));
    }
  }

  #open(): RaftStreamWriter {
    if (this.#stream !== undefined) return this.#stream;
    const clients = this.#o.clients;
    const stream: RaftStreamWriter = new RaftStreamWriter(
      clients.grpcStream(this.address, raftStreamPath),
      this.#signal,
      (h2) => {
        clients.responseRead(this.address, h2);
      },
      (end) => {
        if (end.unimplemented) this.#unary = true;
        this.#broken(stream, end.why);
      },
    );
    this.#stream = stream;
    return stream;
  }

  /** Ends the stream after what it holds (a removed member, or one that moved). */
  close(): void {
    const s = this.#stream;
    this.#stream = undefined;
    this.#pending = [];
    s?.end();
  }

  /** Forgets a stream that ended: what it held is stale (Raft resends what matters). */
  #broken(stream: RaftStreamWriter, why: string): void {
    if (this.#stream !== stream) return;
    this.#stream = undefined;
    if (this.#closed()) return;
    this.#o.logger.debug(`stream to ${this.id} at ${this.address} broke: ${why}`);
    this.#o.reports.reportUnreachable(this.id);
    if (this.#unary && this.#pending.length > 0) this.#flush();
  }

  /** The fallback for peers without Stream: one unary Send per batch, one at a time. */
  async #drain(): Promise<void> {
    this.#sending = true;
    const client = this.#o.clients.raft(this.address);
    try {
      while (this.#pending.length > 0 && !this.#signal.aborted) {
        const batch = this.#pending.splice(0, this.#o.maxBatch ?? 256);
        try {
          await client.send(
            create(SendRequestSchema, {
              clusterId: this.#o.clusterId,
              messages: batch.map(messageToProto),
            }),
            { signal: this.#signal, timeoutMs: this.#o.timeoutMs ?? 5000 },
          );
        } catch (err) {
          if (this.#closed()) return;
          this.#o.logger.debug(`send to ${this.id} at ${this.address} failed: ${String(err)}`);
          this.#pending = [];
          this.#o.reports.reportUnreachable(this.id);
        }
      }
    } finally {
      this.#sending = false;
    }
  }

  sendSnapshot(m: SnapMessage, data: readonly Uint8Array[]): void {
    if (this.#snapshotting) {
      // One at a time: Raft retries after the report.
      this.#o.reports.reportSnapshot(this.id, "failure");
      return;
    }
    this.#snapshotting = true;
    void this.#streamSnapshot(m, data).finally(() => {
      this.#snapshotting = false;
    });
  }

  async #streamSnapshot(m: SnapMessage, data: readonly Uint8Array[]): Promise<void> {
    const clusterId = this.#o.clusterId;
    async function* chunks(): AsyncIterable<InstallSnapshotRequest> {
      await Promise.resolve();
      const hash = createHash("sha256");
      yield create(InstallSnapshotRequestSchema, { clusterId, message: messageToProto(m) });
      for (const c of data) {
        hash.update(c);
        yield create(InstallSnapshotRequestSchema, { data: c });
      }
      yield create(InstallSnapshotRequestSchema, { last: true, sha256: hash.digest() });
    }
    try {
      await this.#o.clients.raft(this.address).installSnapshot(chunks(), { signal: this.#signal });
      this.#o.logger.info(`sent snapshot at ${m.snapshot.metadata.index} to ${this.id}`);
      this.#o.reports.reportSnapshot(this.id, "finish");
    } catch (err) {
      if (this.#signal.aborted) return;
      this.#o.logger.warn(
        `sending snapshot to ${this.id} at ${this.address} failed: ${String(err)}`,
      );
      this.#o.reports.reportSnapshot(this.id, "failure");
    }
  }
}
