import type { RaftLogger } from "../raft/index.js";

/** Log levels, most verbose first. */
export type LogLevel = "debug" | "info" | "warn";

const rank: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2 };

/**
 * A structured logger writing one JSON object per line to `write` (stderr by default), with
 * the node's identity on every line.
 */
export function jsonLogger(opts: {
  level?: LogLevel;
  fields?: Readonly<Record<string, unknown>>;
  write?: (line: string) => void;
  now?: () => number;
}): RaftLogger {
  const min = rank[opts.level ?? "info"];
  const write = opts.write ?? ((line: string) => process.stderr.write(line + "\n"));
  const now = opts.now ?? Date.now;
  const log =
    (level: LogLevel) =>
    (message: string, meta?: Readonly<Record<string, unknown>>): void => {
      if (rank[level] < min) return;
      const line = {
        time: new Date(now()).toISOString(),
        level,
        msg: message,
        ...opts.fields,
        ...meta,
      };
      write(JSON.stringify(line, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)));
    };
  return { debug: log("debug"), info: log("info"), warn: log("warn") };
}
