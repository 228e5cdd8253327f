/** The block store layer: everything the B+tree needs from below. @internal */
export { BlockStore, DEFAULT_SEGMENT_SIZE, validateBlockStoreOptions, type BlockStoreOptions, type BlockStoreStats } from './store.js';
export { nodeFileIO, type FileIO } from './fileio.js';
export { DEFAULT_BLOCK_SIZE, MIN_BLOCK_SIZE, MAX_BLOCK_SIZE, BLOCK_HEADER_SIZE, META_FILE, readU64, writeU64 } from './format.js';
export { segmentName, parseSegmentName, segmentFirsts } from './segments.js';
