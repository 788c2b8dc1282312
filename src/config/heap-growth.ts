import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what its last full collection kept, in percent.
 * V8's own factor (up to 4x while a process allocates fast) let a busy worker's heap fill with
 * garbage between full collections: peak RSS 188-194 MiB after five back-to-back burn-downs of
 * 20,000 jobs, 127-130 MiB at 30%, at the same jobs/s and worker CPU (bench/README.md, "Memory").
 */
export const HEAP_GROWING_PERCENT = 30;

const GIVEN = /^--heap[-_]growing[-_]percent(=|$)/;

/**
 * Sets V8's heap growing factor for this process, unless the node command line or NODE_OPTIONS
 * gives one (an operator's choice wins). The flag is read each time V8 sizes the old generation,
 * so setting it at start-up takes effect. Returns whether it was set.
 */
export function limitHeapGrowth(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): boolean {
  if ([...execArgv, ...nodeOptions.split(/\s+/)].some((arg) => GIVEN.test(arg))) return false;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
