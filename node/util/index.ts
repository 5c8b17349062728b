/** Small building blocks shared by the client, the API and the cluster runtime. */
export { PushQueue } from "./push-queue.js";
export { reasonHeader } from "./reason.js";
