import { Backend, backends } from '../../support/backends';

/**
 * The databases the end-to-end suites start the real apps on: SQLite (the default) and
 * PostgreSQL. The store contract suite covers every other database; doing it again through
 * two processes here would add minutes and find nothing new about the web app.
 */
export const e2eBackends: Backend[] = backends.filter((backend) => backend.name === 'sqlite' || backend.name === 'postgres');
