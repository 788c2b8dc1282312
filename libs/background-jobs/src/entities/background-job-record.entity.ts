import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Column types are left to each driver (String, Date, Boolean map to its natural type), so one
 * entity serves every database; the exact DDL is the store's.
 *
 * ABP's `BackgroundJobRecord`, mapped to its table `AbpBackgroundJobs` with ABP's column names,
 * nullability, lengths and defaults. The schema itself is created by the store's migration (one
 * per database, with each database's natural types, as ABP's EF Core providers make them); this
 * entity lets an application read the table with TypeORM (an admin page, a report).
 */
@Entity({ name: 'AbpBackgroundJobs', synchronize: false })
@Index('IX_AbpBackgroundJobs_ApplicationName_CompletionTime_IsAbandoned_NextTryTime', [
  'applicationName',
  'completionTime',
  'isAbandoned',
  'nextTryTime',
])
export class BackgroundJobRecordEntity {
  @PrimaryColumn({ name: 'Id', length: 36, primaryKeyConstraintName: 'PK_AbpBackgroundJobs' })
  id!: string;

  @Column({ name: 'ApplicationName', type: String, length: 96, nullable: true })
  applicationName!: string | null;

  @Column({ name: 'JobName', length: 128 })
  jobName!: string;

  @Column({ name: 'JobArgs' })
  jobArgs!: string;

  @Column({ name: 'TryCount', type: 'smallint', default: 0 })
  tryCount!: number;

  @Column({ name: 'CreationTime', type: Date })
  creationTime!: Date;

  @Column({ name: 'NextTryTime', type: Date })
  nextTryTime!: Date;

  @Column({ name: 'LastTryTime', type: Date, nullable: true })
  lastTryTime!: Date | null;

  @Column({ name: 'IsAbandoned', type: Boolean, default: false })
  isAbandoned!: boolean;

  @Column({ name: 'Priority', type: 'smallint', default: 15 })
  priority!: number;

  @Column({ name: 'CompletionTime', type: Date, nullable: true })
  completionTime!: Date | null;

  @Column({ name: 'ExtraProperties' })
  extraProperties!: string;

  @Column({ name: 'ConcurrencyStamp', length: 40 })
  concurrencyStamp!: string;
}
