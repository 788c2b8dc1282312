import { join, dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ConfigService } from '@nestjs/config';
import { Logger } from '@nestjs/common';
import helmet from 'helmet';
import cookieParser from 'cookie-parser';
import { urlencoded, json } from 'express';
import { configureViews } from './view-engine';
import { csrfProtection } from './csrf';

/** Body limit: above ABP's 1,048,576-character JobArgs even when every character is URL-encoded. */
const BODY_LIMIT = '12mb';

/** Express middleware for the web app: security headers, cookies, CSRF, static files, views. */
export function configureWebApp(app: NestExpressApplication, config: ConfigService): void {
  let secret = config.get<string>('Web__Secret');
  if (!secret) {
    secret = randomBytes(32).toString('hex');
    new Logger('Web').warn('Web__Secret is not set: using a random one, so forms from before a restart (or from another instance) are refused');
  }
  // No inline script or style attributes are needed; upgrade-insecure-requests would break plain-http intranet installs.
  app.use(helmet({ contentSecurityPolicy: { useDefaults: true, directives: { upgradeInsecureRequests: null } } }));
  app.use(cookieParser(secret));
  app.useStaticAssets(join(__dirname, 'public'));
  app.useStaticAssets(join(dirname(require.resolve('bootstrap/package.json')), 'dist'), { prefix: '/lib/bootstrap' });
  app.use(urlencoded({ extended: false, limit: BODY_LIMIT }));
  app.use(json({ limit: BODY_LIMIT }));
  const csrf = csrfProtection(secret, false);
  app.use(csrf.browserId);
  app.use((req: Parameters<typeof csrf.browserId>[0], res: Parameters<typeof csrf.browserId>[1], next: () => void) => {
    req.csrfToken = (options) => csrf.generateCsrfToken(req, res, options);
    next();
  });
  app.use(csrf.doubleCsrfProtection);
  configureViews(app);
}
