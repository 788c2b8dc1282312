import { randomBytes } from 'node:crypto';
import type { Request, Response, NextFunction } from 'express';
import { doubleCsrf, type GenerateCsrfTokenOptions } from 'csrf-csrf';

/**
 * CSRF protection by csrf-csrf's signed double-submit cookie, bound to an anonymous per-browser
 * id cookie (there is no login or session). The form carries the token in `_csrf`. Over HTTPS
 * (`req.secure`, which believes X-Forwarded-Proto only from proxies Web__TrustProxy trusts) both
 * cookies are Secure and named with the `__Host-` prefix, so no subdomain or plain-http page can
 * set them; over plain http they cannot be, and keep their bare names.
 */
export function csrfProtection(secret: string) {
  const plain = protectionFor(secret, false);
  const https = protectionFor(secret, true);
  const forRequest = (req: Request) => (req.secure ? https : plain);
  return {
    browserId: (req: Request, res: Response, next: NextFunction) => forRequest(req).browserId(req, res, next),
    doubleCsrfProtection: (req: Request, res: Response, next: NextFunction) =>
      forRequest(req).doubleCsrfProtection(req, res, next),
    generateCsrfToken: (req: Request, res: Response, options?: GenerateCsrfTokenOptions) =>
      forRequest(req).generateCsrfToken(req, res, options),
  };
}

function protectionFor(secret: string, secure: boolean) {
  const prefix = secure ? '__Host-' : '';
  const browserIdCookie = `${prefix}bj.bid`;
  const cookieOptions = { sameSite: 'strict' as const, path: '/', secure, httpOnly: true };
  const { doubleCsrfProtection, generateCsrfToken } = doubleCsrf({
    getSecret: () => secret,
    getSessionIdentifier: (req) => (req.signedCookies?.[browserIdCookie] as string | undefined) ?? '',
    cookieName: `${prefix}bj.x-csrf`,
    cookieOptions,
    getCsrfTokenFromRequest: (req) =>
      (req.body as Record<string, string> | undefined)?._csrf ?? req.headers['x-csrf-token'],
    errorConfig: {
      statusCode: 403,
      message: 'The form has expired or did not come from this site. Reload the page and try again.',
    },
  });
  const browserId = (req: Request, res: Response, next: NextFunction) => {
    if (!req.signedCookies?.[browserIdCookie]) {
      const id = randomBytes(16).toString('hex');
      res.cookie(browserIdCookie, id, { ...cookieOptions, signed: true });
      req.signedCookies = { ...(req.signedCookies ?? {}), [browserIdCookie]: id };
    }
    next();
  };
  return { browserId, doubleCsrfProtection, generateCsrfToken };
}
