import type { Message, NodeId, SnapMessage } from "../../node/raft/index.js";
import type { Transport } from "../../node/cluster/ports.js";
import type { RaftRuntime } from "../../node/cluster/runtime.js";

/** An in-process network of runtimes: messages are delivered on a later macrotask. */
export class LoopbackNetwork {
  readonly runtimes = new Map<NodeId, RaftRuntime>();
  readonly #down = new Set<NodeId>();
  /** Every message sent, in order (tests count message kinds). */
  readonly sent: Message[] = [];

  /** Returns a transport for `from`. */
  transport(from: NodeId): Transport {
    return {
      send: (messages: readonly Message[]) => {
        for (const m of messages) this.#deliver(from, m);
      },
      sendSnapshot: (m: SnapMessage, data: readonly Uint8Array[]) => {
        const target = this.runtimes.get(m.to);
        const sender = this.runtimes.get(from);
        if (target === undefined || this.#down.has(m.to)) {
          sender?.reportSnapshot(m.to, "failure");
          return;
        }
        setImmediate(() => {
          void (async () => {
            const chunks = async function* (): AsyncIterable<Uint8Array> {
              await Promise.resolve();
              yield* data;
            };
            try {
              await target.receiveSnapshot(m, chunks());
              sender?.reportSnapshot(m.to, "finish");
            } catch {
              sender?.reportSnapshot(m.to, "failure");
            }
          })();
        });
      },
      setMembers: (): undefined => undefined,
      close: () => Promise.resolve(),
    };
  }

  #deliver(from: NodeId, m: Message): void {
    this.sent.push(m);
    if (this.#down.has(m.to) || this.#down.has(from)) return;
    setImmediate(() => {
      if (this.#down.has(m.to)) return;
      this.runtimes.get(m.to)?.step(m);
    });
  }

  /** Cuts a node off (messages to and from it are lost). */
  isolate(id: NodeId): void {
    this.#down.add(id);
  }

  /** Reconnects a node. */
  heal(id: NodeId): void {
    this.#down.delete(id);
  }
}
