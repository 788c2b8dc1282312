import { join } from 'node:path';
import type { DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { BackgroundJobsDashboardModule, BackgroundJobsDashboardOptions } from '@app/background-jobs-dashboard';
import { validateSettings } from '../config/settings.schema';
import { parseTrustProxy } from '../config/trust-proxy';

/** The dashboard as the settings say (Dashboard__*, and Web__TrustProxy for who is local), in the web app's own layout. */
export function dashboardOptions(setting: (key: string) => unknown): BackgroundJobsDashboardOptions & {
  path: string;
  enabled: boolean;
} {
  return {
    path: setting('Dashboard__Path') as string,
    enabled: setting('Dashboard__Enabled') as boolean,
    readOnly: setting('Dashboard__ReadOnly') as boolean,
    username: setting('Dashboard__Username') as string,
    password: setting('Dashboard__Password') as string,
    trustProxy: parseTrustProxy((setting('Web__TrustProxy') as string | undefined) ?? ''),
    layout: join(__dirname, 'views', 'layout.hbs'),
  };
}

/**
 * The dashboard module for WebModule's imports. Its path and whether it is mounted at all shape
 * the routes, so they must be known while the modules are put together: this waits until
 * @nestjs/config has read `.env` and the environment (as its ConditionalModule does) and reads
 * the validated settings from there.
 */
export async function dashboardModule(): Promise<DynamicModule> {
  await ConfigModule.envVariablesLoaded;
  const settings = validateSettings(process.env);
  return BackgroundJobsDashboardModule.forRoot(dashboardOptions((key) => settings[key]));
}
