import type { DatabaseProvider } from '@app/background-jobs/connection/database-provider';

/**
 * The DDL that ABP's own EF Core migrations send to upgrade AbpBackgroundJobs, per provider, as
 * EF Core's migrations SQL generators write it:
 * - ABP 9.2 (PR #22169): `AddColumn<string>("ApplicationName", maxLength: 96, nullable: true)`;
 * - ABP 10.6 (DemoApp's `Added_CompletionTime_To_BackgroundJobs`): `AddColumn<DateTime>("CompletionTime",
 *   nullable: true)`, `DropIndex("IX_AbpBackgroundJobs_IsAbandoned_NextTryTime")`, and `CreateIndex` of
 *   (ApplicationName, CompletionTime, IsAbandoned, NextTryTime) under the name EF Core gives it
 *   (cut with a trailing "~" at PostgreSQL's 63 and MySQL's 64 characters).
 * An ABP app sharing the table runs them when it upgrades: they must succeed on a table this
 * module adopted, and the module must keep working after them.
 */
export interface AbpMigration {
  version: '9.2' | '10.6';
  statements: string[];
}

export const abpMigrations: Record<DatabaseProvider, AbpMigration[]> = {
  // Npgsql's generator: no NULL for a nullable column.
  postgres: [
    { version: '9.2', statements: ['ALTER TABLE "AbpBackgroundJobs" ADD "ApplicationName" character varying(96);'] },
    {
      version: '10.6',
      statements: [
        'DROP INDEX "IX_AbpBackgroundJobs_IsAbandoned_NextTryTime";',
        'ALTER TABLE "AbpBackgroundJobs" ADD "CompletionTime" timestamp without time zone;',
        'CREATE INDEX "IX_AbpBackgroundJobs_ApplicationName_CompletionTime_IsAbandone~" ON "AbpBackgroundJobs" ("ApplicationName", "CompletionTime", "IsAbandoned", "NextTryTime");',
      ],
    },
  ],
  // Pomelo's generator: the column's character set on text columns; DROP INDEX through ALTER TABLE.
  mysql: [
    {
      version: '9.2',
      statements: ['ALTER TABLE `AbpBackgroundJobs` ADD `ApplicationName` varchar(96) CHARACTER SET utf8mb4 NULL;'],
    },
    {
      version: '10.6',
      statements: [
        'ALTER TABLE `AbpBackgroundJobs` DROP INDEX `IX_AbpBackgroundJobs_IsAbandoned_NextTryTime`;',
        'ALTER TABLE `AbpBackgroundJobs` ADD `CompletionTime` datetime(6) NULL;',
        'CREATE INDEX `IX_AbpBackgroundJobs_ApplicationName_CompletionTime_IsAbandoned~` ON `AbpBackgroundJobs` (`ApplicationName`, `CompletionTime`, `IsAbandoned`, `NextTryTime`);',
      ],
    },
  ],
  // EF Core's SQLite generator: ADD COLUMN with its affinity; indexes by name alone.
  sqlite: [
    { version: '9.2', statements: ['ALTER TABLE "AbpBackgroundJobs" ADD "ApplicationName" TEXT NULL;'] },
    {
      version: '10.6',
      statements: [
        'DROP INDEX "IX_AbpBackgroundJobs_IsAbandoned_NextTryTime";',
        'ALTER TABLE "AbpBackgroundJobs" ADD "CompletionTime" TEXT NULL;',
        'CREATE INDEX "IX_AbpBackgroundJobs_ApplicationName_CompletionTime_IsAbandoned_NextTryTime" ON "AbpBackgroundJobs" ("ApplicationName", "CompletionTime", "IsAbandoned", "NextTryTime");',
      ],
    },
  ],
  // EF Core's SQL Server generator: DROP INDEX ... ON the table.
  sqlserver: [
    { version: '9.2', statements: ['ALTER TABLE [AbpBackgroundJobs] ADD [ApplicationName] nvarchar(96) NULL;'] },
    {
      version: '10.6',
      statements: [
        'DROP INDEX [IX_AbpBackgroundJobs_IsAbandoned_NextTryTime] ON [AbpBackgroundJobs];',
        'ALTER TABLE [AbpBackgroundJobs] ADD [CompletionTime] datetime2 NULL;',
        'CREATE INDEX [IX_AbpBackgroundJobs_ApplicationName_CompletionTime_IsAbandoned_NextTryTime] ON [AbpBackgroundJobs] ([ApplicationName], [CompletionTime], [IsAbandoned], [NextTryTime]);',
      ],
    },
  ],
};

/** ABP 10.6's index, per provider, under the name EF Core gives it. */
export const ABP_10_6_INDEX: Record<DatabaseProvider, string> = {
  postgres: 'IX_AbpBackgroundJobs_ApplicationName_CompletionTime_IsAbandone~',
  mysql: 'IX_AbpBackgroundJobs_ApplicationName_CompletionTime_IsAbandoned~',
  sqlite: 'IX_AbpBackgroundJobs_ApplicationName_CompletionTime_IsAbandoned_NextTryTime',
  sqlserver: 'IX_AbpBackgroundJobs_ApplicationName_CompletionTime_IsAbandoned_NextTryTime',
};

/** ABP's index before 10.6. */
export const ABP_9_INDEX = 'IX_AbpBackgroundJobs_IsAbandoned_NextTryTime';
