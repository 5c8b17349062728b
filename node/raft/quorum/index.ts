export type { AckedIndexer, JointConfig, MajorityConfig, VoteResult } from "./quorum.js";
export {
  jointCommittedIndex,
  jointVoteResult,
  jointVoterIds,
  majorityCommittedIndex,
  majorityVoteResult,
  sortIds,
} from "./quorum.js";
