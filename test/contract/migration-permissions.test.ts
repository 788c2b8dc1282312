import { randomBytes, randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { backends } from '../support/backends';
import { LEGACY_ROW, legacyTables } from '../support/legacy-tables';
import { createLimitedLogin, LIMITED_LOGIN_DIALECTS } from '../support/limited-logins';
import { openStore } from '../support/open-store';
import { describeOnStoreBackends, OpenedStore } from '../support/store-suite';
import { readTableCatalog } from '../support/table-catalog';

/**
 * A migration of ours may need a permission the apps' login lacks (PostgreSQL: only a table's owner
 * may create its indexes; MySQL: the INDEX and CREATE privileges). Then the error says which step
 * needs what, and how to run `npm run migrate` with another login; and once that login has
 * migrated, the apps' login migrates (AutoMigrate) without sending any DDL.
 */
jest.setTimeout(60_000);

describeOnStoreBackends(
  'Migrating with a login that may only read and write rows: %s',
  backends.filter((b) => LIMITED_LOGIN_DIALECTS.includes(b.name)),
  (suite) => {
    afterEach(() => jest.restoreAllMocks());

    it("says which permission the login lacks and how to migrate with another; after that, the login's own migration sends no DDL", async () => {
      jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
      const dialect = suite.backend.name;
      const opened: OpenedStore[] = [];
      const open = async (connectionString: string) => {
        const store = await openStore(connectionString, suite.backend.provider);
        opened.push(store);
        return store;
      };
      const login = await createLimitedLogin(dialect, suite.database);
      try {
        // ABP 9.1's table, made by its owner (ABP's migrations), with one row.
        const owner = await open(suite.database.connectionString);
        for (const statement of legacyTables[dialect].statements) await owner.dataSource.query(statement);
        await login.grantOnTables();
        const before = await readTableCatalog(owner.dataSource, dialect);

        const app = await open(login.connectionString);
        const refused = app.store.migrate();
        await expect(refused).rejects.toMatchObject({ name: 'MigrationPermissionError' });
        await expect(refused).rejects.toThrow(
          /^Migrating AbpBackgroundJobs failed while creating our index IX_AbpBackgroundJobs_Dequeue on AbpBackgroundJobs: the database login may not \(/,
        );
        await expect(refused).rejects.toThrow(
          dialect === 'postgres'
            ? /only the owner of a table create or drop its indexes/
            : /the CREATE, ALTER, INDEX and DROP privileges/,
        );
        await expect(refused).rejects.toThrow(
          /set ConnectionStrings__AbpBackgroundJobsMigration to its connection string and run `npm run migrate`/,
        );
        expect(await readTableCatalog(owner.dataSource, dialect)).toEqual(before);

        await owner.store.migrate();
        await login.grantOnTables();
        const migrated = await readTableCatalog(owner.dataSource, dialect);
        const again = await open(login.connectionString);
        await again.store.migrate();
        expect(await readTableCatalog(owner.dataSource, dialect)).toEqual(migrated);

        // And it works as that login: enqueue (with a key), claim, complete.
        const id = randomUUID();
        await again.store.enqueue({
          applicationName: null,
          creationTime: new Date(),
          jobs: [
            {
              id,
              jobName: LEGACY_ROW.jobName,
              jobArgs: '{}',
              priority: 15,
              nextTryTime: new Date(),
              concurrencyStamp: randomBytes(16).toString('hex'),
            },
          ],
          keys: [{ id, fingerprint: 'ab'.repeat(32) }],
        });
        const leaseToken = `lease:${randomBytes(16).toString('hex')}`;
        const claimed = await again.store.claim({
          applicationName: null,
          jobNames: [LEGACY_ROW.jobName],
          limit: 10,
          now: new Date(Date.now() + 1000),
          leaseUntil: new Date(Date.now() + 60_000),
          leaseToken,
        });
        expect(claimed.map((j) => j.id).sort()).toEqual([id, LEGACY_ROW.id].sort());
        expect(await again.store.complete(leaseToken, [id, LEGACY_ROW.id])).toBe(2);
      } finally {
        for (const store of opened) await store.close().catch(() => undefined);
        await suite.database.drop();
        await login.drop();
      }
    });
  },
  { open: false },
);
