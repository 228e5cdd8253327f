/**
 * A tiny in-memory Engine for testing the bench's own machinery (driver,
 * workloads, runner, report) without any store: a sorted array of keys and a
 * map of values. Puts are acknowledged together on the next event-loop turn,
 * like a group commit, and never before they are visible.
 */
import type { Engine, EngineModule, Pair } from '../../bench/engines/engine.js';

export interface MemoryStats {
  /** Most puts ever outstanding at once. */
  maxPending: number;
  puts: number;
  closed: boolean;
}

export function memoryEngine(stats: MemoryStats = { maxPending: 0, puts: 0, closed: false }): EngineModule & { stats: MemoryStats } {
  return {
    name: 'memory',
    stats,
    async open(): Promise<Engine> {
      const sorted: Buffer[] = [];
      const values = new Map<string, Buffer>();
      let pending: { key: Buffer; value: Buffer; resolve: () => void }[] = [];
      const commit = (): void => {
        const batch = pending;
        pending = [];
        for (const { key, value } of batch) {
          const hex = key.toString('hex');
          if (!values.has(hex)) {
            let lo = 0;
            let hi = sorted.length;
            while (lo < hi) {
              const mid = (lo + hi) >>> 1;
              if (Buffer.compare(sorted[mid]!, key) < 0) lo = mid + 1;
              else hi = mid;
            }
            sorted.splice(lo, 0, Buffer.from(key));
          }
          values.set(hex, Buffer.from(value));
        }
        for (const p of batch) p.resolve();
      };
      return {
        get: (key) => values.get(key.toString('hex')),
        put: (key, value) =>
          new Promise<void>((resolve) => {
            if (pending.length === 0) setImmediate(commit);
            pending.push({ key, value, resolve });
            stats.puts++;
            stats.maxPending = Math.max(stats.maxPending, pending.length);
          }),
        range: function* (gte?: Buffer): Iterable<Pair> {
          for (const k of sorted) {
            if (gte !== undefined && Buffer.compare(k, gte) < 0) continue;
            yield [k, values.get(k.toString('hex'))!];
          }
        },
        bytesOnDisk: () => 0,
        close: async () => {
          stats.closed = true;
        },
      };
    },
  };
}
