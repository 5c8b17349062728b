/**
 * The watch hub's public surface (STYLES.md §7.3 rule 17: explicit named exports only).
 */
export { WatchHub, DEFAULT_QUEUE_LIMIT, DEFAULT_MAX_QUEUE_LIMIT } from "./hub.js";
export type { WatchHubOptions, WatchHubStats, WatchOptions } from "./hub.js";
export { Watcher } from "./watcher.js";
export type { WatchEvent, WatcherState } from "./watcher.js";
export { DEFAULT_HISTORY_BOUNDS } from "./history.js";
export type { HistoryBounds } from "./history.js";
export { WatchError, WatchErrorCode, WatchErrorReason } from "./errors.js";
export type { WatchErrorDetails } from "./errors.js";
