/**
 * Convergence: after healing, every node's dump (the snapshot stream of its applied state, from
 * StoreService.Dump at local consistency) is byte-identical once all have applied the same index.
 */

/** One node's dump. */
export interface NodeDump {
  readonly node: string;
  readonly appliedIndex: bigint;
  readonly bytes: Uint8Array;
}

/** The convergence verdict. */
export type ConvergenceVerdict =
  | { readonly valid: true; readonly nodes: number; readonly bytes: number; readonly index: string }
  | {
      readonly valid: false;
      readonly why: string;
      readonly dumps: readonly { node: string; index: string; bytes: number; firstDiff: number }[];
    };

/** Compares dumps: same applied index and the same bytes on every node. */
export function checkConvergence(dumps: readonly NodeDump[]): ConvergenceVerdict {
  const first = dumps[0];
  if (first === undefined) return { valid: false, why: "no dumps", dumps: [] };
  const diff = (b: Uint8Array): number => {
    const n = Math.min(b.length, first.bytes.length);
    for (let i = 0; i < n; i++) if (b[i] !== first.bytes[i]) return i;
    return b.length === first.bytes.length ? -1 : n;
  };
  const rows = dumps.map((d) => ({
    node: d.node,
    index: d.appliedIndex.toString(),
    bytes: d.bytes.length,
    firstDiff: diff(d.bytes),
  }));
  if (dumps.some((d) => d.appliedIndex !== first.appliedIndex))
    return { valid: false, why: "nodes applied different indexes", dumps: rows };
  if (rows.some((r) => r.firstDiff !== -1))
    return { valid: false, why: "dumps at the same index differ", dumps: rows };
  return {
    valid: true,
    nodes: dumps.length,
    bytes: first.bytes.length,
    index: first.appliedIndex.toString(),
  };
}
