import { context, trace } from "@opentelemetry/api";
import type { RaftLogger } from "../raft/index.js";

/** Log levels, most verbose first. */
export type LogLevel = "debug" | "info" | "warn";

const rank: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2 };

/** Returns whether `s` names a log level. */
export function isLogLevel(s: string): s is LogLevel {
  return s in rank;
}

/**
 * A structured logger writing one JSON object per line to `write` (stderr by default), with
 * the node's identity on every line and, when the line is written inside a traced call, the
 * trace_id and span_id of the active span (so a log line leads to its trace in Jaeger).
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
      const sc = trace.getSpan(context.active())?.spanContext();
      const line = {
        time: new Date(now()).toISOString(),
        level,
        msg: message,
        ...opts.fields,
        ...(sc !== undefined ? { trace_id: sc.traceId, span_id: sc.spanId } : {}),
        ...meta,
      };
      write(JSON.stringify(line, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)));
    };
  return { debug: log("debug"), info: log("info"), warn: log("warn") };
}
