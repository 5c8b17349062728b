export {
  Changer,
  checkInvariants,
  entersJoint,
  initialNext,
  leavesJoint,
  restoreConfig,
  type ConfigAndProgress,
  type ProgressFactory,
} from "./changer.js";
