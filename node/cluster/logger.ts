/** The node's structured logger lives with the rest of telemetry (DESIGN.md §10). */
export { jsonLogger, isLogLevel, type LogLevel } from "../telemetry/logger.js";
