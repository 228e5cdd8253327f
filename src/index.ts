/**
 * birch: an embedded, durable, log-structured copy-on-write B+tree
 * key-value store. This file is the whole public surface.
 */
export { BirchError, BirchLoadError, type BirchErrorCode } from './errors.js';
export { VERSION } from './version.js';
export type {
  Bytes,
  OpenOptions,
  RangeOptions,
  BatchOp,
  TableOptions,
  EncodingOptions,
  WriteOptions,
  StoreStats,
  CheckReport,
  CheckProblem,
  BackupOptions,
  BackupProgress,
  BackupResult,
} from './api/types.js';
export { open, Store } from './api/store.js';
export { Table } from './api/table.js';
export { Snapshot } from './api/snapshot.js';
export type { Reader as TableReader } from './api/access.js';
export { dump, load, type DumpSink, type DumpOptions, type DumpResult, type LoadOptions, type LoadResult } from './api/dump.js';
export { encodeTuple, decodeTuple, tupleRange, type TupleItem, type KeyEncoding, type ValueEncoding, type KeyInput, type KeyOf, type ValueInput, type ValueOf, type KeyEncodingFor, type ValueEncodingFor, type KeyBound, type KeyRangeOptions } from './api/encoding/index.js';
