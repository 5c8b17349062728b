/** The core's injected logger: fixed phrasings, structured metadata, no I/O of its own. */
export interface RaftLogger {
  debug(message: string, meta?: Readonly<Record<string, unknown>>): void;
  info(message: string, meta?: Readonly<Record<string, unknown>>): void;
  warn(message: string, meta?: Readonly<Record<string, unknown>>): void;
}

/** A logger that discards everything (the default). */
export const discardLogger: RaftLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
};
