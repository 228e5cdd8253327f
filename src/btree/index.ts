/** The B+tree layer: what the layers above may use. @internal */
export { Tree, type TreeOptions, type TreeStats, type LogView } from './tree.js';
export type { Request } from './group.js';
export type { BatchHook, CommitInfo, TreeHooks } from './batch.js';
export { WorkingTree, type Op } from './mutate.js';
export type { RangeIterator, Bound, MakeEntry } from './range.js';
export type { CheckResult, CheckProblem } from './check.js';
export type { Commit } from './commit.js';
export type { OldestLeaves } from './cleaning.js';
export type { CopyOptions, CopyProgress } from './copy.js';
export {
  makeEntry,
  sortKey,
  entrySize,
  writeEntryHead,
  writeValueHead,
  writeDeadline,
  KS_STORE,
  KS_TABLES,
  KS_EXPIRY,
  KS_CATALOG,
  KS_DROPPED,
  tablePrefix,
  keyCopyAt,
  valueCopyAt,
} from './entry.js';
export { EntryArena, copyInto } from './arena.js';
export { MAX_KEY_SIZE, MAX_VALUE_SIZE, MIN_TREE_BLOCK_SIZE } from './serialize.js';
