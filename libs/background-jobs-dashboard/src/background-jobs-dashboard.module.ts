import { DynamicModule, Module, ModuleMetadata, Provider } from '@nestjs/common';
import { RouterModule } from '@nestjs/core';
import { DashboardAccessGuard } from './access/dashboard-access.guard';
import { JobsApiController } from './api/jobs-api.controller';
import { SchedulesApiController } from './api/schedules-api.controller';
import { BackgroundJobsDashboardOptions, normalizeDashboardPath, resolveDashboardOptions } from './dashboard.options';
import { DASHBOARD_OPTIONS } from './dashboard.tokens';
import { DashboardErrorResponder } from './http/dashboard-error-responder';
import { DashboardExceptionFilter } from './http/dashboard-exception.filter';
import { AssetsController } from './pages/assets.controller';
import { DashboardActionsController } from './pages/dashboard-actions.controller';
import { DashboardPagesController } from './pages/dashboard-pages.controller';
import { SchedulesController } from './pages/schedules.controller';
import { DashboardRenderer } from './view/dashboard-renderer';

/** `path` and `enabled` shape the routes, so they are given as they are; the rest may come from a factory. */
export interface BackgroundJobsDashboardAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  path?: string;
  enabled?: boolean;
  inject?: (string | symbol | (abstract new (...args: never[]) => unknown))[];
  useFactory: (
    ...args: never[]
  ) =>
    | Omit<BackgroundJobsDashboardOptions, 'path' | 'enabled'>
    | Promise<Omit<BackgroundJobsDashboardOptions, 'path' | 'enabled'>>;
}

/**
 * A Hangfire-like dashboard and JSON API for the background jobs, mounted below `path` (default
 * `/jobs`) of any Nest app on Express that has `BackgroundJobsModule`: thin fronts on its
 * management service (`BackgroundJobsAdmin`), which they inject and call, and nothing else.
 * Closed by default: only requests from this machine get in, unless HTTP Basic credentials or an
 * `authorize` hook say otherwise. Its HTML forms carry the host's CSRF token when the host
 * installs csrf-csrf's `req.csrfToken` (as the web app does); every write also refuses requests
 * sent by another site, and the API's writes need `Content-Type: application/json`, so the host
 * must not demand a CSRF token below `<path>/api` (see `dashboardApiPath`).
 */
@Module({})
export class BackgroundJobsDashboardModule {
  static forRoot(options: BackgroundJobsDashboardOptions = {}): DynamicModule {
    return mount(options, { provide: DASHBOARD_OPTIONS, useValue: resolveDashboardOptions(options) });
  }

  static forRootAsync(options: BackgroundJobsDashboardAsyncOptions): DynamicModule {
    const { path, enabled } = options;
    return mount(
      { path, enabled },
      {
        provide: DASHBOARD_OPTIONS,
        inject: options.inject ?? [],
        useFactory: async (...args: never[]) =>
          resolveDashboardOptions({ ...(await options.useFactory(...args)), path, enabled }),
      },
      options.imports,
    );
  }
}

function mount(
  { path, enabled }: Pick<BackgroundJobsDashboardOptions, 'path' | 'enabled'>,
  optionsProvider: Provider,
  imports: ModuleMetadata['imports'] = [],
): DynamicModule {
  if (enabled === false) return { module: BackgroundJobsDashboardModule };
  return {
    module: BackgroundJobsDashboardModule,
    imports: [
      ...imports,
      RouterModule.register([{ path: normalizeDashboardPath(path), module: BackgroundJobsDashboardModule }]),
    ],
    controllers: [
      DashboardPagesController,
      DashboardActionsController,
      SchedulesController,
      JobsApiController,
      SchedulesApiController,
      AssetsController,
    ],
    providers: [
      optionsProvider,
      DashboardRenderer,
      DashboardErrorResponder,
      DashboardExceptionFilter,
      DashboardAccessGuard,
    ],
    exports: [DashboardErrorResponder],
  };
}

/** The JSON API's path below a dashboard path: a host's CSRF token check must skip it (its writes need JSON instead). */
export function dashboardApiPath(path: string | undefined): string {
  return `${normalizeDashboardPath(path)}/api`;
}
