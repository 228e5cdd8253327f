/**
 * The encoding types type a table API (issue 13): compile
 * test/api/fixtures/encoding-types.ts (a sketch of the API) and
 * store-types.ts (birch's own open, Store, Table and Snapshot) under the project's compiler options
 * (strict) and expect no error, its @ts-expect-error lines included (an
 * expected error that does not happen is itself an error).
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');

it('types tables from their encodings', () => {
  const r = spawnSync(
    process.execPath,
    [
      TSC,
      '--noEmit',
      '--strict',
      '--noUncheckedIndexedAccess',
      '--target', 'ES2022',
      '--module', 'NodeNext',
      '--moduleResolution', 'NodeNext',
      '--skipLibCheck',
      '--types', 'node',
      'test/api/fixtures/encoding-types.ts',
      'test/api/fixtures/store-types.ts',
      'src/lbs/fs-ext.d.ts', // the declarations the store's sources need
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
});
