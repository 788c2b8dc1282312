import { Backend, backendLabel, backends } from '../../support/backends';

export { skipUnavailable } from '../../support/backends';

/**
 * The databases the end-to-end suites start the real apps on: every backend of the store
 * suites. SQLite, PostgreSQL and MariaDB always run (a fresh database each); SQL Server only when
 * MSSQL_CONNECTION_STRING names one, and otherwise each suite shows a skipped test saying why.
 */
export const e2eBackends: Backend[] = backends;

/** `describe.each` rows: the name, with the reason in it when the backend is skipped. */
export const e2eCases = e2eBackends.map((backend) => [backendLabel(backend), backend] as const);

for (const backend of e2eBackends) {
  // Visible in the run's output, not only as a quiet "skipped" count.
  if (!backend.available)
    console.warn(`end-to-end tests on ${backend.name} skipped: ${backend.skipReason ?? 'not available'}`);
}
