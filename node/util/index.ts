/** Small building blocks shared by the client, the API and the cluster runtime. */
export { PushQueue } from "./push-queue.js";
export { reasonHeader } from "./reason.js";
export {
  FRAME_HEADER_BYTES,
  FrameError,
  FrameReader,
  emptyFrame,
  frameOf,
  grpcContentType,
  writeFrameHeader,
} from "./grpc-frames.js";
