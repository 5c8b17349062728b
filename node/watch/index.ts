/**
 * The watch hub's public surface (STYLES.md §7.3 rule 17: explicit named exports only).
 *
 * Semantics (DESIGN.md §5): `fromIndex` is the last index the client has seen; a watcher gets
 * events with `index > fromIndex` (etcd's `start_revision` = fromIndex + 1), omitted = only new
 * events. History keeps the newest 100,000 events and at most 1,000,000 log indexes; a
 * `fromIndex` below `compactedIndex` (0 included once anything was dropped) fails with
 * `out_of_range`/COMPACTED naming the oldest index still available. Each watcher queues at most
 * 10,000 events by default (ceiling 100,000) and is cut off with `resource_exhausted`/SLOW_CONSUMER
 * beyond that; history still to replay is shared and costs a watcher nothing.
 */
export { WatchHub, DEFAULT_QUEUE_LIMIT, DEFAULT_MAX_QUEUE_LIMIT } from "./hub.js";
export type { WatchHubOptions, WatchHubStats, WatchOptions } from "./hub.js";
export { Watcher } from "./watcher.js";
export type { WatchEvent, WatcherState } from "./watcher.js";
export { DEFAULT_HISTORY_BOUNDS } from "./history.js";
export type { HistoryBounds } from "./history.js";
export { WatchError, WatchErrorCode, WatchErrorReason } from "./errors.js";
export type { WatchErrorDetails } from "./errors.js";
