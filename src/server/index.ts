/**
 * birch's Redis-protocol server: `import { serve } from 'birchdb/server'`.
 * The design is in docs/SERVER.md.
 */
export { serve, BirchServer, isLoopback, type ServeOptions, type ServerAddress } from './server.js';
