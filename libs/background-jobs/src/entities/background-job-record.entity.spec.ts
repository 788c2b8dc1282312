import { DataSource, TableColumn } from 'typeorm';
import { TableUtils } from 'typeorm/schema-builder/util/TableUtils';
import { parseConnectionString } from '../connection/connection-string';
import { BackgroundJobRecordEntity } from './background-job-record.entity';

/**
 * The entity's columns as TypeORM would write them in DDL for each database, from the TypeORM
 * options parseConnectionString() gives (metadata is built without connecting), against the
 * columns ABP's EF Core provider for that database makes.
 */
async function columnsFor(connectionString: string, provider?: string): Promise<Record<string, string>> {
  const dataSource = new DataSource(parseConnectionString(connectionString, provider).typeorm);
  // DataSource.initialize() would connect; building the metadata is the part of it that reads the entity.
  await (dataSource as unknown as { buildMetadatas(): Promise<void> }).buildMetadatas();
  const metadata = dataSource.getMetadata(BackgroundJobRecordEntity);
  expect(metadata.tableName).toBe('AbpBackgroundJobs');
  return Object.fromEntries(
    metadata.columns.map((column) => {
      const options = TableUtils.createTableColumnOptions(column, dataSource.driver);
      const type = [
        dataSource.driver.createFullType(new TableColumn(options)),
        options.unsigned ? 'unsigned' : '',
        options.collation ? `COLLATE ${options.collation}` : '',
        options.isNullable ? 'NULL' : 'NOT NULL',
        options.default === undefined ? '' : `DEFAULT ${String(options.default)}`,
      ];
      return [column.databaseName, type.filter(Boolean).join(' ')];
    }),
  );
}

describe("BackgroundJobRecordEntity: ABP's column types on each database", () => {
  it('SQL Server: uniqueidentifier, nvarchar(max), smallint, datetime2, bit, tinyint', async () => {
    expect(
      await columnsFor('Server=db,1433;Database=jobs;User Id=app;Password=pw;TrustServerCertificate=True'),
    ).toEqual({
      Id: 'uniqueidentifier NOT NULL',
      ApplicationName: 'nvarchar(96) NULL',
      JobName: 'nvarchar(128) NOT NULL',
      JobArgs: 'nvarchar(MAX) NOT NULL',
      TryCount: 'smallint NOT NULL DEFAULT 0',
      CreationTime: 'datetime2 NOT NULL',
      NextTryTime: 'datetime2 NOT NULL',
      LastTryTime: 'datetime2 NULL',
      IsAbandoned: 'bit NOT NULL DEFAULT 0',
      Priority: 'tinyint NOT NULL DEFAULT 15',
      CompletionTime: 'datetime2 NULL',
      ExtraProperties: 'nvarchar(MAX) NOT NULL',
      ConcurrencyStamp: 'nvarchar(40) NOT NULL',
    });
  });

  it('PostgreSQL: uuid, character varying, smallint, timestamp without time zone, boolean', async () => {
    // TypeORM writes PostgreSQL's timestamp without time zone as TIMESTAMP, its synonym.
    expect(await columnsFor('postgresql://app:pw@db:5432/jobs')).toEqual({
      Id: 'uuid NOT NULL',
      ApplicationName: 'character varying(96) NULL',
      JobName: 'character varying(128) NOT NULL',
      JobArgs: 'character varying(1048576) NOT NULL',
      TryCount: "smallint NOT NULL DEFAULT '0'",
      CreationTime: 'TIMESTAMP NOT NULL',
      NextTryTime: 'TIMESTAMP NOT NULL',
      LastTryTime: 'TIMESTAMP NULL',
      IsAbandoned: 'boolean NOT NULL DEFAULT false',
      Priority: "smallint NOT NULL DEFAULT '15'",
      CompletionTime: 'TIMESTAMP NULL',
      ExtraProperties: 'text NOT NULL',
      ConcurrencyStamp: 'character varying(40) NOT NULL',
    });
  });

  it.each([['mysql://app:pw@db:3306/jobs'], ['mariadb://app:pw@db:3306/jobs']])(
    'MySQL and MariaDB (%s): char(36) ascii ids, longtext, datetime(6), tinyint for bool, tinyint unsigned',
    async (url) => {
      // Pomelo's bool is tinyint(1); TypeORM 1.x has no display width (MySQL 8 deprecates it), so its
      // DDL says tinyint, the same type. TypeORM still reads and writes the column as a boolean.
      expect(await columnsFor(url)).toEqual({
        Id: 'char(36) COLLATE ascii_general_ci NOT NULL',
        ApplicationName: 'varchar(96) NULL',
        JobName: 'varchar(128) NOT NULL',
        JobArgs: 'longtext NOT NULL',
        TryCount: "smallint NOT NULL DEFAULT '0'",
        CreationTime: 'datetime(6) NOT NULL',
        NextTryTime: 'datetime(6) NOT NULL',
        LastTryTime: 'datetime(6) NULL',
        IsAbandoned: 'tinyint NOT NULL DEFAULT 0',
        Priority: "tinyint unsigned NOT NULL DEFAULT '15'",
        CompletionTime: 'datetime(6) NULL',
        ExtraProperties: 'longtext NOT NULL',
        ConcurrencyStamp: 'varchar(40) NOT NULL',
      });
    },
  );

  it('SQLite: TEXT and INTEGER, as EF Core makes them', async () => {
    expect(await columnsFor('Data Source=:memory:')).toEqual({
      Id: 'text NOT NULL',
      ApplicationName: 'text NULL',
      JobName: 'text NOT NULL',
      JobArgs: 'text NOT NULL',
      TryCount: 'integer NOT NULL DEFAULT 0',
      CreationTime: 'text NOT NULL',
      NextTryTime: 'text NOT NULL',
      LastTryTime: 'text NULL',
      IsAbandoned: 'integer NOT NULL DEFAULT 0',
      Priority: 'integer NOT NULL DEFAULT 15',
      CompletionTime: 'text NULL',
      ExtraProperties: 'text NOT NULL',
      ConcurrencyStamp: 'text NOT NULL',
    });
  });
});
