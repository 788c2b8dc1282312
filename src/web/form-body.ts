import type { NextFunction, Request, Response } from 'express';
import { json, urlencoded } from 'express';

/** Body limit: above ABP's 1,048,576-character JobArgs even when every character is URL-encoded. */
const BODY_LIMIT = '12mb';

const FORM_TYPE = 'application/x-www-form-urlencoded';

/**
 * Reads form posts (and JSON), refusing with a message that says what is wrong: a body of another
 * type (multipart, text) is 415 before the CSRF check would call it an expired form, and a value
 * with a broken %-escape is 400 instead of being stored undecoded. More than 1,000 fields is
 * body-parser's 413 `parameters.too.many` (ASP.NET Core allows 1,024).
 */
export function formBody() {
  return [
    formOrJsonOnly,
    urlencoded({ extended: false, limit: BODY_LIMIT, verify: refuseBrokenEscapes }),
    json({ limit: BODY_LIMIT }),
  ];
}

function formOrJsonOnly(req: Request, _res: Response, next: NextFunction): void {
  // null: no body at all, which the handlers judge; false: a body of another type.
  if (req.is([FORM_TYPE, 'application/json']) === false) {
    next(Object.assign(new Error(`The form must be sent as ${FORM_TYPE}; nothing was queued.`), { status: 415 }));
    return;
  }
  next();
}

/** qs keeps a whole value undecoded when decodeURIComponent refuses it; this refuses the post instead. */
function refuseBrokenEscapes(_req: Request, _res: Response, body: Buffer): void {
  for (const pair of body.toString('utf8').split('&')) {
    try {
      decodeURIComponent(pair.replace(/\+/g, ' '));
    } catch {
      throw Object.assign(
        new Error('The form has a broken %-escape in it, so its text cannot be read; nothing was queued.'),
        {
          status: 400,
          type: 'form.broken.escape',
        },
      );
    }
  }
}
