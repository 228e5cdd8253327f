/** Every workload, in the order a run executes them: the load first, the
 * read-only workloads on the freshly loaded store, then the ones that
 * rewrite it, then tokyo on a store of its own. */
import { bulkExtract } from './bulk-extract.js';
import { bulkInsert } from './bulk-insert.js';
import { bulkUpdate } from './bulk-update.js';
import { hotspotRead } from './hotspot-read.js';
import { randomMixed } from './random-mixed.js';
import { randomRead } from './random-read.js';
import { tokyo } from './tokyo.js';
import type { Workload } from './workload.js';

export const WORKLOADS: readonly Workload[] = [
  bulkInsert,
  bulkExtract,
  randomRead,
  hotspotRead,
  bulkUpdate,
  randomMixed,
  tokyo,
];

export function workloadByName(name: string): Workload | undefined {
  return WORKLOADS.find((w) => w.name === name);
}
