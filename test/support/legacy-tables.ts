import type { DatabaseProvider } from '@app/background-jobs/connection/database-provider';
/**
 * AbpBackgroundJobs as ABP 9.1's EF Core migrations left it, before ApplicationName (9.2) and
 * CompletionTime (10.6), with ABP's index of then: the table the store must adopt without losing
 * rows, and without adding anything of ABP's (see abp-migrations.ts for ABP's own later DDL). One entry per backend
 * name in backends.ts, holding that provider's DDL and one row written the way EF Core writes it.
 */
export interface LegacyTable {
  /** Run in order on a fresh database. */
  statements: string[];
}

/** The row every legacy table is seeded with, as the store should read it back. */
export const LEGACY_ROW = {
  id: '3f2c9a4e-8d1b-4c7e-9a55-0b6e1d2f4a11',
  jobName: 'LegacyReportJobArgs',
  jobArgs: '{"content":"from ABP 9"}',
  tryCount: 2,
  creationTime: new Date('2024-05-01T10:00:00.000Z'),
  nextTryTime: new Date('2024-05-01T10:03:00.123Z'),
  lastTryTime: new Date('2024-05-01T10:01:00.500Z'),
  isAbandoned: false,
  priority: 20,
  extraProperties: '{}',
  concurrencyStamp: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
} as const;

const values = (id: string, times: { creation: string; next: string; last: string }, bool: (b: boolean) => string) =>
  `'${id}', '${LEGACY_ROW.jobName}', '${LEGACY_ROW.jobArgs}', ${LEGACY_ROW.tryCount}, '${times.creation}', '${times.next}', ` +
  `'${times.last}', ${bool(LEGACY_ROW.isAbandoned)}, ${LEGACY_ROW.priority}, '${LEGACY_ROW.extraProperties}', '${LEGACY_ROW.concurrencyStamp}'`;

const COLUMNS = `"Id", "JobName", "JobArgs", "TryCount", "CreationTime", "NextTryTime", "LastTryTime", "IsAbandoned", "Priority",
  "ExtraProperties", "ConcurrencyStamp"`;

export const legacyTables: Record<DatabaseProvider, LegacyTable> = {
  // EF Core's SQLite provider: Guids as upper-case text, times as text with up to 7 fractional digits.
  sqlite: {
    statements: [
      `CREATE TABLE "AbpBackgroundJobs" (
        "Id" TEXT NOT NULL CONSTRAINT "PK_AbpBackgroundJobs" PRIMARY KEY,
        "JobName" TEXT NOT NULL,
        "JobArgs" TEXT NOT NULL,
        "TryCount" INTEGER NOT NULL DEFAULT 0,
        "CreationTime" TEXT NOT NULL,
        "NextTryTime" TEXT NOT NULL,
        "LastTryTime" TEXT NULL,
        "IsAbandoned" INTEGER NOT NULL DEFAULT 0,
        "Priority" INTEGER NOT NULL DEFAULT 15,
        "ExtraProperties" TEXT NOT NULL,
        "ConcurrencyStamp" TEXT NOT NULL)`,
      `CREATE INDEX "IX_AbpBackgroundJobs_IsAbandoned_NextTryTime" ON "AbpBackgroundJobs" ("IsAbandoned", "NextTryTime")`,
      `INSERT INTO "AbpBackgroundJobs" (${COLUMNS}) VALUES (${values(
        LEGACY_ROW.id.toUpperCase(),
        { creation: '2024-05-01 10:00:00', next: '2024-05-01 10:03:00.1234567', last: '2024-05-01 10:01:00.5' },
        (b) => (b ? '1' : '0'),
      )})`,
    ],
  },
  // Npgsql's provider: uuid, timestamp without time zone holding UTC (microseconds).
  postgres: {
    statements: [
      `CREATE TABLE "AbpBackgroundJobs" (
        "Id" uuid NOT NULL,
        "JobName" character varying(128) NOT NULL,
        "JobArgs" character varying(1048576) NOT NULL,
        "TryCount" smallint NOT NULL DEFAULT 0,
        "CreationTime" timestamp without time zone NOT NULL,
        "NextTryTime" timestamp without time zone NOT NULL,
        "LastTryTime" timestamp without time zone NULL,
        "IsAbandoned" boolean NOT NULL DEFAULT FALSE,
        "Priority" smallint NOT NULL DEFAULT 15,
        "ExtraProperties" text NOT NULL,
        "ConcurrencyStamp" character varying(40) NOT NULL,
        CONSTRAINT "PK_AbpBackgroundJobs" PRIMARY KEY ("Id"))`,
      `CREATE INDEX "IX_AbpBackgroundJobs_IsAbandoned_NextTryTime" ON "AbpBackgroundJobs" ("IsAbandoned", "NextTryTime")`,
      `INSERT INTO "AbpBackgroundJobs" (${COLUMNS}) VALUES (${values(
        LEGACY_ROW.id,
        { creation: '2024-05-01 10:00:00', next: '2024-05-01 10:03:00.123456', last: '2024-05-01 10:01:00.5' },
        (b) => (b ? 'TRUE' : 'FALSE'),
      )})`,
    ],
  },
  // Pomelo's MySQL provider: Guids as lower-case char(36) (ascii), datetime(6), bools as tinyint(1).
  mysql: {
    statements: [
      `CREATE TABLE \`AbpBackgroundJobs\` (
        \`Id\` char(36) COLLATE ascii_general_ci NOT NULL,
        \`JobName\` varchar(128) CHARACTER SET utf8mb4 NOT NULL,
        \`JobArgs\` longtext CHARACTER SET utf8mb4 NOT NULL,
        \`TryCount\` smallint NOT NULL DEFAULT 0,
        \`CreationTime\` datetime(6) NOT NULL,
        \`NextTryTime\` datetime(6) NOT NULL,
        \`LastTryTime\` datetime(6) NULL,
        \`IsAbandoned\` tinyint(1) NOT NULL DEFAULT FALSE,
        \`Priority\` tinyint unsigned NOT NULL DEFAULT 15,
        \`ExtraProperties\` longtext CHARACTER SET utf8mb4 NOT NULL,
        \`ConcurrencyStamp\` varchar(40) CHARACTER SET utf8mb4 NOT NULL,
        CONSTRAINT \`PK_AbpBackgroundJobs\` PRIMARY KEY (\`Id\`)) CHARACTER SET=utf8mb4`,
      'CREATE INDEX `IX_AbpBackgroundJobs_IsAbandoned_NextTryTime` ON `AbpBackgroundJobs` (`IsAbandoned`, `NextTryTime`)',
      `INSERT INTO \`AbpBackgroundJobs\` (${COLUMNS.replace(/"/g, '`')}) VALUES (${values(
        LEGACY_ROW.id,
        { creation: '2024-05-01 10:00:00', next: '2024-05-01 10:03:00.123456', last: '2024-05-01 10:01:00.5' },
        (b) => (b ? '1' : '0'),
      )})`,
    ],
  },
  // EF Core's SQL Server provider: uniqueidentifier, datetime2 (100 ns), bit, tinyint Priority.
  sqlserver: {
    statements: [
      `CREATE TABLE [AbpBackgroundJobs] (
        [Id] uniqueidentifier NOT NULL,
        [JobName] nvarchar(128) NOT NULL,
        [JobArgs] nvarchar(max) NOT NULL,
        [TryCount] smallint NOT NULL DEFAULT CAST(0 AS smallint),
        [CreationTime] datetime2 NOT NULL,
        [NextTryTime] datetime2 NOT NULL,
        [LastTryTime] datetime2 NULL,
        [IsAbandoned] bit NOT NULL DEFAULT CAST(0 AS bit),
        [Priority] tinyint NOT NULL DEFAULT CAST(15 AS tinyint),
        [ExtraProperties] nvarchar(max) NOT NULL,
        [ConcurrencyStamp] nvarchar(40) NOT NULL,
        CONSTRAINT [PK_AbpBackgroundJobs] PRIMARY KEY ([Id]))`,
      'CREATE INDEX [IX_AbpBackgroundJobs_IsAbandoned_NextTryTime] ON [AbpBackgroundJobs] ([IsAbandoned], [NextTryTime])',
      `INSERT INTO [AbpBackgroundJobs] (${COLUMNS.replace(/"([A-Za-z]+)"/g, '[$1]')}) VALUES (${values(
        LEGACY_ROW.id,
        { creation: '2024-05-01T10:00:00', next: '2024-05-01T10:03:00.1234567', last: '2024-05-01T10:01:00.5' },
        (b) => (b ? '1' : '0'),
      )})`,
    ],
  },
};
