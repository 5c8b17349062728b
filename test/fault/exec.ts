/** Runs system commands (ip, tc, mount) for the fault suite, async and bounded in time. */
import { execFile } from "node:child_process";

/** Runs `cmd args` (10 s bound); rejects naming the command and its stderr on failure. */
export function run(cmd: string, args: readonly string[], timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: "utf8" }, (err, stdout, stderr) => {
      if (err === null) resolve(stdout);
      else reject(new Error(`${cmd} ${args.join(" ")} failed: ${stderr.trim() || err.message}`));
    });
  });
}

/** Runs a command, resolving to whether it succeeded (for probes and best-effort cleanup). */
export async function tryRun(cmd: string, args: readonly string[]): Promise<boolean> {
  try {
    await run(cmd, args);
    return true;
  } catch {
    return false;
  }
}
