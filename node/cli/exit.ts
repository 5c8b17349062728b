/** Exit statuses of the `juraft` command. */
export const ExitCode = {
  ok: 0,
  /** An error: unreachable cluster, bad input refused by the server, I/O. */
  error: 1,
  /** Bad usage: unknown command or option, malformed argument. */
  usage: 2,
  /** `juraft txn`: the transaction was aborted (an assert failed). */
  aborted: 3,
} as const;

/** A CLI failure with the exit status it maps to. */
export class CliError extends Error {
  override readonly name = "CliError";
  readonly exitCode: number;

  /** Creates an error with a message naming what failed. */
  constructor(message: string, exitCode: number = ExitCode.error) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** A usage error (exit status 2). */
export function usage(message: string): CliError {
  return new CliError(message, ExitCode.usage);
}
