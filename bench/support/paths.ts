import { resolve } from 'node:path';

/** dist/ (this file runs as dist/bench/support/paths.js). */
export const DIST = resolve(__dirname, '..', '..');
/** The repository root, the cwd of the apps we start. */
export const REPO = resolve(DIST, '..');
export const WORKER_ENTRY = resolve(DIST, 'main.worker.js');
export const WEB_ENTRY = resolve(DIST, 'main.web.js');
export const CONSUMER_ENTRY = resolve(DIST, 'bench', 'consumer.js');
/** Written by the run; kept in git, so small. */
export const RESULTS_FILE = resolve(REPO, 'bench', 'results', 'latest.json');
/** The README, whose table between its bench markers a complete run rewrites. */
export const README_FILE = resolve(REPO, 'README.md');
/** The chart a complete run draws, committed beside the README. */
export const CHART_FILE = resolve(REPO, 'docs', 'bench.svg');
