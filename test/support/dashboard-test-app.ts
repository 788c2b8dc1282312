import type { AddressInfo } from 'node:net';
import { DynamicModule, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { BackgroundJobsAdmin } from '@app/background-jobs/admin/background-jobs-admin.types';
import { BackgroundJobsDashboardModule, BackgroundJobsDashboardOptions } from '@app/background-jobs-dashboard';
import { IBackgroundJobManager } from '@app/background-jobs/background-job-manager';
import { FakeBackgroundJobsAdmin } from './fake-background-jobs-admin';
import { RecurringJobs } from '@app/background-jobs/schedules/recurring-jobs.service';
import { FakeJobManager } from './fake-job-manager';
import { FakeRecurringJobs } from './fake-recurring-jobs';

@Module({})
class FakeAdminModule {
  static with(admin: BackgroundJobsAdmin, jobs: FakeJobManager, schedules: FakeRecurringJobs): DynamicModule {
    return {
      module: FakeAdminModule,
      global: true,
      providers: [
        { provide: BackgroundJobsAdmin, useValue: admin },
        { provide: IBackgroundJobManager, useValue: jobs },
        { provide: RecurringJobs, useValue: schedules },
      ],
      exports: [BackgroundJobsAdmin, IBackgroundJobManager, RecurringJobs],
    };
  }
}

export interface DashboardTestApp {
  admin: FakeBackgroundJobsAdmin;
  /** The job manager the API's cancel calls. */
  jobs: FakeJobManager;
  /** The recurring jobs service the Schedules page and API call. */
  schedules: FakeRecurringJobs;
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
  const jobs = new FakeJobManager();
  const schedules = new FakeRecurringJobs();
  const dashboard = 'module' in options ? options : BackgroundJobsDashboardModule.forRoot(options);
  @Module({ imports: [FakeAdminModule.with(admin, jobs, schedules), dashboard] })
  class TestAppModule {}
  const app = await NestFactory.create<NestExpressApplication>(TestAppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { admin, jobs, schedules, baseUrl: `http://127.0.0.1:${port}`, close: () => app.close() };
}

/** Text that would run as script if a page did not escape it. */
export const HOSTILE = '<script>alert("x")</script>';
/** The header a write to the JSON API needs. */
export const JSON_WRITE = { 'content-type': 'application/json' };

/** A GET, redirects left to the test. */
export async function get(app: DashboardTestApp, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${app.baseUrl}${path}`, { headers, redirect: 'manual' });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** An attribute's value as the browser reads it (Handlebars writes `=` as `&#x3D;`). */
export function attribute(html: string, pattern: RegExp): string {
  return pattern
    .exec(html)![1]
    .replace(/&#x3D;/g, '=')
    .replace(/&amp;/g, '&');
}

/** Any request; `json()` parses the answer. */
export async function send(
  app: DashboardTestApp,
  method: string,
  path: string,
  { body, headers = {} }: { body?: string; headers?: Record<string, string> } = {},
) {
  const response = await fetch(`${app.baseUrl}${path}`, { method, body, headers, redirect: 'manual' });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) as unknown };
}

/** A form post as a browser on the same site sends it. */
export function postForm(app: DashboardTestApp, path: string, fields: [string, string][]) {
  return send(app, 'POST', path, {
    body: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
  });
}
