import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Module } from '@nestjs/common';
import { BACKGROUND_JOB_STORE, BackgroundJobStore } from '@app/background-jobs';
import { AppCoreModule } from './config/app-core.module';
import { runMain } from './run-main';

/**
 * `npm run migrate`: creates or adopts the AbpBackgroundJobs table, then exits (for
 * Database__AutoMigrate=false), as the login of ConnectionStrings__AbpBackgroundJobsMigration when
 * that is set (one that may create tables and indexes), else of ConnectionStrings__AbpBackgroundJobs.
 */
runMain('migrate', async () => {
  process.env.Database__AutoMigrate = 'false'; // migrate explicitly below, and report it
  @Module({ imports: [AppCoreModule.register({ isJobExecutionEnabled: false, migration: true })] })
  class MigrateModule {}
  const app = await NestFactory.createApplicationContext(MigrateModule, { logger: ['error', 'warn'] });
  const store = app.get<BackgroundJobStore>(BACKGROUND_JOB_STORE);
  await store.migrate();
  process.stdout.write(`AbpBackgroundJobs table ready (${store.dialect})\n`);
  await app.close();
});
