import type { AddressInfo } from 'node:net';
import { DynamicModule, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { BackgroundJobsAdmin } from '@app/background-jobs/admin/background-jobs-admin.types';
import { BackgroundJobsDashboardModule, BackgroundJobsDashboardOptions } from '@app/background-jobs-dashboard';
import { FakeBackgroundJobsAdmin } from './fake-background-jobs-admin';

@Module({})
class FakeAdminModule {
  static with(admin: BackgroundJobsAdmin): DynamicModule {
    return {
      module: FakeAdminModule,
      global: true,
      providers: [{ provide: BackgroundJobsAdmin, useValue: admin }],
      exports: [BackgroundJobsAdmin],
    };
  }
}

export interface DashboardTestApp {
  admin: FakeBackgroundJobsAdmin;
  /** http://127.0.0.1:<port> */
  baseUrl: string;
  close(): Promise<void>;
}

/**
 * The dashboard module alone (as `forRoot(options)`, or a module given whole) in a Nest app on loopback, on a fake management service, with
 * Nest's own body parsers (JSON and forms) and no CSRF middleware: what a library user gets.
 */
export async function startDashboardTestApp(
  options: BackgroundJobsDashboardOptions | DynamicModule = {},
): Promise<DashboardTestApp> {
  const admin = new FakeBackgroundJobsAdmin();
  const dashboard = 'module' in options ? options : BackgroundJobsDashboardModule.forRoot(options);
  @Module({ imports: [FakeAdminModule.with(admin), dashboard] })
  class TestAppModule {}
  const app = await NestFactory.create<NestExpressApplication>(TestAppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { admin, baseUrl: `http://127.0.0.1:${port}`, close: () => app.close() };
}
