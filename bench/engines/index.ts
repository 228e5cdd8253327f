/** The engines --engine can name. Each is imported only when asked for, so a
 * missing optional peer (or birch's own build) affects only its own run. */
import type { EngineModule } from './engine.js';

export const ENGINE_NAMES = ['birch', 'lmdb', 'level'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

export async function loadEngine(name: EngineName): Promise<EngineModule> {
  switch (name) {
    case 'birch':
      return (await import('./birch.js')).birch;
    case 'lmdb':
      return (await import('./lmdb.js')).lmdb;
    case 'level':
      return (await import('./level.js')).level;
  }
}
