/**
 * `juraft`: the one program. `juraft serve` runs a node (a single-node cluster in ./data with no
 * flags), `juraft local --nodes 3` a local cluster, and the other commands talk to a cluster.
 */
import { Command, CommanderError, Option } from "commander";
import { ConnectError } from "@connectrpc/connect";
import { JuraftClient } from "../client/index.js";
import { parseEndpoints, formatEndpoint } from "../cluster/discovery.js";
import { members, status } from "./admin-commands.js";
import { dump, find, get, txn, watch } from "./data-commands.js";
import { importDump } from "./import-command.js";
import { CliError, ExitCode } from "./exit.js";
import { clientSecurityOf, type ClientSecurityFlags } from "./client-security.js";
import type { ServeFlags } from "./serve.js";
import type { BenchFlags } from "../bench/bench-command.js";
import type { ClientTelemetry } from "../telemetry/index.js";

const print = (line: string): void => {
  process.stdout.write(line + "\n");
};

function clientOf(program: Command, telemetry?: ClientTelemetry): JuraftClient {
  const opts = program.opts<{ endpoints: string } & ClientSecurityFlags>();
  let endpoints: string[];
  try {
    endpoints = parseEndpoints(opts.endpoints).map(formatEndpoint);
  } catch (err) {
    throw new CliError(
      `--endpoints: ${err instanceof Error ? err.message : String(err)}`,
      ExitCode.usage,
    );
  }
  return new JuraftClient({
    endpoints,
    ...clientSecurityOf(opts),
    ...(telemetry !== undefined ? { telemetry } : {}),
  });
}

/** Runs a client command, closing the client and setting the exit status. */
function withClient(
  program: Command,
  fn: (c: JuraftClient) => Promise<number>,
): () => Promise<void> {
  const run = async (telemetry?: ClientTelemetry): Promise<number> => {
    const client = clientOf(program, telemetry);
    try {
      return await fn(client);
    } finally {
      client.close();
    }
  };
  return async () => {
    if (program.opts<{ trace?: boolean }>().trace !== true) {
      process.exitCode = await run();
      return;
    }
    // Loaded only with --trace: the OpenTelemetry SDK adds start-up time to every command.
    const { withTrace } = await import("./trace.js");
    const names = new Set(program.commands.map((c) => c.name()));
    const command = process.argv.slice(2).find((a) => names.has(a)) ?? "";
    process.exitCode = await withTrace(command, run, (line) => process.stderr.write(line + "\n"));
  };
}

function build(): Command {
  const program = new Command("juraft")
    .description("A Raft-replicated in-memory document store for Juju (mgo/txn) transactions")
    .addOption(
      new Option("--endpoints <list>", "nodes to talk to, host:port,...")
        .env("JURAFT_ENDPOINTS")
        .default("127.0.0.1:7070"),
    )
    .addOption(
      new Option("--cacert <file>", "talk TLS, verifying nodes with this CA (PEM)").env(
        "JURAFT_CACERT",
      ),
    )
    .addOption(
      new Option("--cert <file>", "client certificate for nodes that require one (PEM)").env(
        "JURAFT_CERT",
      ),
    )
    .addOption(new Option("--key <file>", "private key of --cert (PEM)").env("JURAFT_KEY"))
    .addOption(
      new Option("--token <token>", "bearer token (prefer the environment variable)").env(
        "JURAFT_TOKEN",
      ),
    )
    .option("--trace", "start a trace (printed as trace_id: ... on stderr) for Jaeger")
    .exitOverride()
    .showHelpAfterError();

  program
    .command("serve")
    .description("run a node (no flags: a single-node cluster in ./data on 127.0.0.1:7070)")
    .option("--data-dir <dir>", "data directory", "./data")
    .option("--listen <host:port>", "address to serve on", "127.0.0.1:7070")
    .option("--advertise <host:port>", "address others reach this node at (default: --listen)")
    .option("--name <name>", "stable member name (default: the host name)")
    .option("--join <list>", "join an existing cluster through these nodes, host:port,...")
    .option(
      "--peers-dns <name[:port]>",
      "find peers by resolving this DNS name (SRV, or A/AAAA records on port, default 7070)",
    )
    .option("--dns-server <host:port>", "DNS server for --peers-dns (default: the system's)")
    .option("--cluster-id <id>", "the cluster id to create or expect")
    .option("--cluster-id-recorded", "a cluster id is recorded for this cluster: never bootstrap")
    .option(
      "--mode <mode>",
      "transaction semantics of a new cluster: client (mgo/txn) or server (sstxn)",
      "client",
    )
    .option("--manual-promotion", "leave promotion of this node to an operator")
    .option("--tick-ms <ms>", "milliseconds per Raft tick (election timeout is 10 ticks)", "100")
    .option(
      "--snapshot-every <n>",
      "snapshot and compact the log every n applied entries",
      "100000",
    )
    .option(
      "--snapshot-trailing <n>",
      "log entries kept behind a snapshot for slow followers",
      "1000",
    )
    .option(
      "--max-txn-bytes <n>",
      "largest transaction (BSON bytes) accepted",
      String(16 * 1024 * 1024),
    )
    .option("--max-ops <n>", "most ops in one transaction", "10000")
    .option("--log-level <level>", "debug, info or warn", "info")
    .option(
      "--peer-listen <host:port>",
      "serve members on this separate port (default with TLS or tokens: --listen port + 1)",
    )
    .option(
      "--peer-advertise <host:port>",
      "address members reach the peer port at (default: --advertise host, peer port)",
    )
    .option("--tls-cert <file>", "serve clients over TLS with this certificate (PEM)")
    .option("--tls-key <file>", "private key of --tls-cert (PEM)")
    .option("--tls-ca <file>", "require client certificates signed by this CA (PEM)")
    .option(
      "--peer-tls-cert <file>",
      "this member's certificate for mutual TLS between members (PEM)",
    )
    .option("--peer-tls-key <file>", "private key of --peer-tls-cert (PEM)")
    .option(
      "--peer-tls-ca <file>",
      "the cluster CA: members must present certificates it signed (PEM)",
    )
    .option(
      "--auth-token-file <file>",
      "require a bearer token from clients, one accepted token per line",
    )
    .option("--metrics-listen <host:port>", "serve Prometheus /metrics here (default: off)")
    // Loaded on demand: the node (RocksDB, Raft, store) is not needed by client commands, and
    // loading it would add about 0.3 s to every `juraft txn`, `get`, `status`...
    .action(async (f: ServeFlags) => {
      const { serve } = await import("./serve.js");
      await serve(f);
    });

  program
    .command("local")
    .description("run a local cluster of N serve processes on loopback")
    .option("--nodes <n>", "number of nodes", "3")
    .option("--base-port <port>", "port of node 0 (node i listens on port + i)", "7070")
    .option("--data-dir <dir>", "data directory", "./data/local")
    .option("--log-level <level>", "debug, info or warn", "warn")
    .action(async (f: { nodes: string; basePort: string; dataDir: string; logLevel: string }) => {
      const { local } = await import("./local.js");
      await local(f);
    });

  program
    .command("bench")
    .description("benchmark juraft (--local N or --endpoints) and etcd (--etcd, --compare)")
    .option("--workload <name>", "juju, cas, insert, update-hot, read or watch", "cas")
    .option("--clients <n>", "concurrent clients (watchers for watch)", "64")
    .option("--duration <d>", "how long per target and concurrency: 20s, 500ms, 2m", "10s")
    .option("--count <n>", "operations per target and concurrency instead of a duration")
    .option("--keys <n>", "documents in the key space (units for juju)", "1000")
    .option("--value-size <n>", "bytes per written value", "100")
    .option("--consistency <c>", "reads: quorum (linearizable) or local (serializable)", "quorum")
    .option("--local <n>", "start a local juraft cluster of n serve processes", "3")
    .option("--tick-ms <ms>", "--tick-ms of the local juraft nodes (default: serve's)")
    .option("--etcd <spec>", "etcd target: local:N starts N etcd processes")
    .option("--etcd-endpoints <list>", "etcd target: existing members, host:port,...")
    .option("--compare", "run juraft and etcd in interleaved rounds and print the ratios")
    .option("--scale", "run at 1, 16, 64 and 256 clients")
    .option("--rounds <n>", "rounds the duration or count is split into (interleaved)", "4")
    .option("--warmup <d>", "run the workload this long on each target first, unmeasured", "5s")
    .option("--json <file>", "write every result as JSON")
    .option("--svg <file>", "write a chart (throughput by concurrency, latency distribution)")
    // Loaded on demand, as serve is: etcd3 and the targets are not needed by other commands.
    .action(async (f: BenchFlags) => {
      const { benchCli } = await import("../bench/bench-command.js");
      const given = program.getOptionValueSource("endpoints") === "cli";
      const endpoints = given ? program.opts<{ endpoints: string }>().endpoints : undefined;
      process.exitCode = await benchCli(f, endpoints, process.argv.slice(2));
    });

  program
    .command("txn [ops]")
    .description('apply a transaction: an Extended JSON array of ops, "-" for stdin, or -f FILE')
    .option("-f, --file <file>", "read the ops from a file")
    .option("--txn-id <id>", "transaction id (retries with the same id never apply twice)")
    .action((ops: string | undefined, f: { file?: string; txnId?: string }) =>
      withClient(program, (c) => txn(c, print, ops, f))(),
    );

  program
    .command("get <collection> <id>")
    .description("print a document by _id (the id is Extended JSON or a plain string)")
    .option("--consistency <c>", "quorum or local", "quorum")
    .action((coll: string, id: string, f: { consistency?: string }) =>
      withClient(program, (c) => get(c, print, coll, id, f))(),
    );

  program
    .command("find <collection> [filter]")
    .description("print matching documents, one canonical Extended JSON document per line")
    .option("--consistency <c>", "quorum or local", "quorum")
    .option("--sort <doc>", "sort document, e.g. '{\"_id\": -1}'")
    .option("--projection <doc>", "projection document")
    .option("--limit <n>", "at most n documents")
    .option("--skip <n>", "skip n documents")
    .action((coll: string, filter: string | undefined, f: Record<string, string>) =>
      withClient(program, (c) => find(c, print, coll, filter, f))(),
    );

  program
    .command("watch [collections...]")
    .description("stream change events, one JSON line each, until interrupted")
    .option("--from <index>", "start at this log index (inclusive)")
    .action((colls: string[], f: { from?: string }) =>
      withClient(program, (c) => {
        const ac = new AbortController();
        process.once("SIGINT", () => {
          ac.abort();
        });
        process.once("SIGTERM", () => {
          ac.abort();
        });
        return watch(c, print, colls, f, ac.signal);
      })(),
    );

  program
    .command("status")
    .description("the node's role, term, leader and indexes")
    .action(() => withClient(program, (c) => status(c, print))());

  program
    .command("members <action> [args...]")
    .description(
      "list | add-learner NAME ADDRESS | promote ID | remove ID | transfer-leadership ID",
    )
    .action((action: string, args: string[]) =>
      withClient(program, (c) => members(c, print, action, args))(),
    );

  program
    .command("dump")
    .description("print the applied state as Extended JSON lines, or write a mongodump directory")
    .option("--mongodump <dir>", "write <dir>/<db>/<collection>.bson files mongorestore loads")
    .option("--db <name>", "database name in the dump", "juju")
    .action((f: { mongodump?: string; db: string }) =>
      withClient(program, (c) => dump(c, print, f))(),
    );

  program
    .command("import")
    .description("import a mongodump directory into the running cluster, keeping each txn-revno")
    .option("--mongodump <dir>", "the dump directory (holding <db>/<collection>.bson)")
    .option("--db <name>", "database name in the dump", "juju")
    .option("--batch <n>", "documents per log entry", "1000")
    .action((f: { mongodump?: string; db: string; batch: string }) =>
      withClient(program, (c) => importDump(c, print, f))(),
    );

  return program;
}

async function main(): Promise<void> {
  const program = build();
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; every parse error is a usage error.
      process.exitCode = err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
      return;
    }
    if (err instanceof CliError) {
      process.stderr.write(`juraft: ${err.message}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    if (err instanceof ConnectError) {
      const reason = err.metadata.get("juraft-reason");
      process.stderr.write(
        `juraft: [${codeName(err)}${reason === null ? "" : ` ${reason}`}] ${err.rawMessage}\n`,
      );
      process.exitCode = ExitCode.error;
      return;
    }
    throw err;
  }
}

function codeName(err: ConnectError): string {
  return err.message.slice(1, err.message.indexOf("]"));
}

await main();
