import { randomBytes } from 'node:crypto';
import type { Request, Response, NextFunction } from 'express';
import { doubleCsrf } from 'csrf-csrf';

const BROWSER_ID_COOKIE = 'bj.bid';

/**
 * CSRF protection by csrf-csrf's signed double-submit cookie, bound to an anonymous per-browser
 * id cookie (there is no login or session). The form carries the token in `_csrf`.
 */
export function csrfProtection(secret: string, secure: boolean) {
  const cookieOptions = { sameSite: 'strict' as const, path: '/', secure, httpOnly: true };
  const { doubleCsrfProtection, generateCsrfToken } = doubleCsrf({
    getSecret: () => secret,
    getSessionIdentifier: (req) => (req.signedCookies?.[BROWSER_ID_COOKIE] as string | undefined) ?? '',
    cookieName: secure ? '__Host-bj.x-csrf' : 'bj.x-csrf',
    cookieOptions,
    getCsrfTokenFromRequest: (req) => (req.body as Record<string, string> | undefined)?._csrf ?? req.headers['x-csrf-token'],
    errorConfig: { statusCode: 403, message: 'The form has expired or did not come from this site. Reload the page and try again.' },
  });
  const browserId = (req: Request, res: Response, next: NextFunction) => {
    if (!req.signedCookies?.[BROWSER_ID_COOKIE]) {
      const id = randomBytes(16).toString('hex');
      res.cookie(BROWSER_ID_COOKIE, id, { ...cookieOptions, signed: true });
      req.signedCookies = { ...(req.signedCookies ?? {}), [BROWSER_ID_COOKIE]: id };
    }
    next();
  };
  return { browserId, doubleCsrfProtection, generateCsrfToken };
}
