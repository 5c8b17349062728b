/**
 * Errors a user can see (STYLES.md §7.3 rule 5): a Connect/gRPC code, a stable reason, and a
 * message naming the failed action, the op index and the field. Bugs throw {@link InvariantError}.
 */

/** The Connect code names the store uses (never invented: STYLES.md §7.3 rule 5). */
export const ErrorCode = {
  invalidArgument: "invalid_argument",
  failedPrecondition: "failed_precondition",
  notFound: "not_found",
  outOfRange: "out_of_range",
  aborted: "aborted",
  dataLoss: "data_loss",
} as const;
/** One of {@link ErrorCode}. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Where in a transaction an error was found. */
export interface ErrorSite {
  /** Index of the op in the transaction, when the error concerns one op. */
  readonly op?: number;
  /** The field or path concerned (e.g. `update.$inc.count`). */
  readonly field?: string;
  /** The MongoDB server error code this mirrors (e.g. 40 for conflicting update paths). */
  readonly mongoCode?: number;
}

/** A typed, coded error for bad input or a state-dependent rejection. */
export class StoreError extends Error {
  /** Connect code. */
  readonly code: ErrorCode;
  /** Stable machine-readable reason, e.g. `UNKNOWN_OPERATOR`. */
  readonly reason: string;
  /** Op index, if any. */
  readonly op: number | undefined;
  /** Field or path, if any. */
  readonly field: string | undefined;
  /** MongoDB's own error code for the same failure, if any. */
  readonly mongoCode: number | undefined;

  /** Builds an error; `message` should read "action: state" with values quoted. */
  constructor(code: ErrorCode, reason: string, message: string, site: ErrorSite = {}) {
    super(message);
    this.name = "StoreError";
    this.code = code;
    this.reason = reason;
    this.op = site.op;
    this.field = site.field;
    this.mongoCode = site.mongoCode;
  }

  /** Returns a copy of this error attributed to op `op` (prefixing the message). */
  atOp(op: number): StoreError {
    if (this.op !== undefined) return this;
    const site: ErrorSite = {
      op,
      ...(this.field === undefined ? {} : { field: this.field }),
      ...(this.mongoCode === undefined ? {} : { mongoCode: this.mongoCode }),
    };
    return new StoreError(this.code, this.reason, `op ${op}: ${this.message}`, site);
  }
}

/** A broken internal invariant: a bug. Never caught by the store. */
export class InvariantError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "InvariantError";
  }
}

/** Throws an `invalid_argument` {@link StoreError}. */
export function badInput(reason: string, message: string, site: ErrorSite = {}): never {
  throw new StoreError(ErrorCode.invalidArgument, reason, message, site);
}

/** Throws {@link InvariantError} when `cond` is false. */
export function invariant(cond: boolean, message: string): asserts cond {
  if (!cond) throw new InvariantError(message);
}

/** Quotes a value for an error message. */
export function q(s: string): string {
  return JSON.stringify(s);
}
