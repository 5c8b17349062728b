/** The juraft client library (used by the CLI, the benchmarks and the operator). */
export {
  JuraftClient,
  type ClientOptions,
  type ReadConsistency,
  type TxnOutcome,
} from "./client.js";
export { SessionMux, type SessionCallOptions } from "./session.js";
export {
  grpcSessionOpener,
  managerStreams,
  sessionPath,
  type GrpcStreams,
  type SessionEvents,
  type SessionOpener,
  type SessionStream,
} from "./grpc-session.js";
