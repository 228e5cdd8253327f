/** The B+tree layer. @internal */
export { Tree, type Request, type BatchHook, type CommitInfo, type TreeOptions } from './tree.js';
export { WorkingTree, type Op } from './mutate.js';
export { RangeIterator, type Bound } from './range.js';
export { checkTree, type CheckResult } from './check.js';
export { EMPTY_ROOT, type Commit } from './commit.js';
export { lookup } from './find.js';
export { makeEntry } from './node.js';
export { OldestLeaves } from './cleaning.js';
