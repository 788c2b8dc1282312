import { join, dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ConfigService } from '@nestjs/config';
import { Logger } from '@nestjs/common';
import helmet from 'helmet';
import cookieParser from 'cookie-parser';
import type { NextFunction, Request, Response } from 'express';
import { trustProxy } from '../config/app-settings';
import { configureViews } from './view-engine';
import { csrfProtection } from './csrf';
import { formBody } from './form-body';
import { dashboardApiPath } from '@app/background-jobs-dashboard';
import { dashboardOptions } from './dashboard';

/** Express middleware for the web app: security headers, cookies, CSRF, static files, views. */
export function configureWebApp(app: NestExpressApplication, config: ConfigService): void {
  let secret = config.get<string>('Web__Secret');
  if (!secret) {
    secret = randomBytes(32).toString('hex');
    new Logger('Web').warn(
      'Web__Secret is not set: using a random one, so forms from before a restart (or from another instance) are refused',
    );
  }
  // req.secure and req.ip believe X-Forwarded-Proto/-For only from the proxies this names.
  app.set('trust proxy', trustProxy(config));
  // No inline script or style attributes are needed; upgrade-insecure-requests would break plain-http intranet installs.
  app.use(
    helmet({
      contentSecurityPolicy: { useDefaults: true, directives: { upgradeInsecureRequests: null } },
      strictTransportSecurity: false,
    }),
  );
  // HSTS only in an answer over HTTPS: browsers ignore it over http, and it would be untrue there.
  const hsts = helmet.strictTransportSecurity();
  app.use((req: Request, res: Response, next: NextFunction) => (req.secure ? hsts(req, res, next) : next()));
  app.use(cookieParser(secret));
  app.useStaticAssets(join(__dirname, 'public'));
  app.useStaticAssets(join(dirname(require.resolve('bootstrap/package.json')), 'dist'), { prefix: '/lib/bootstrap' });
  app.use(formBody());
  const csrf = csrfProtection(secret);
  app.use(csrf.browserId);
  app.use((req: Request, res: Response, next: NextFunction) => {
    req.csrfToken = (options) => csrf.generateCsrfToken(req, res, options);
    next();
  });
  // The dashboard's JSON API is for scripts, which have no CSRF cookie: its writes need
  // Content-Type: application/json and a same-site origin instead (the dashboard checks both).
  const dashboard = dashboardOptions((key) => config.get(key));
  const apiPath = dashboard.enabled ? dashboardApiPath(dashboard.path) : undefined;
  app.use((req: Request, res: Response, next: NextFunction) =>
    apiPath !== undefined && (req.path === apiPath || req.path.startsWith(`${apiPath}/`))
      ? next()
      : csrf.doubleCsrfProtection(req, res, next),
  );
  configureViews(app);
  // The navbar's "Jobs" link (views/layout.hbs), on every page while the dashboard is mounted.
  if (dashboard.enabled) app.setLocal('jobsPath', dashboard.path);
}
