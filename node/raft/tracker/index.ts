export { Inflights } from "./inflights.js";
export { Progress, type ProgressState } from "./progress.js";
export {
  ProgressTracker,
  confStateOf,
  describeConfig,
  isJoint,
  type TrackerConfig,
  type VoteTally,
} from "./tracker.js";
