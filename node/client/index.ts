/** The juraft client library (used by the CLI, the benchmarks and the operator). */
export {
  JuraftClient,
  type ClientOptions,
  type ReadConsistency,
  type TxnOutcome,
} from "./client.js";
export { SessionMux, type SessionCallOptions } from "./session.js";
