import type { IncomingHttpHeaders } from 'node:http';

export type WriteRefusal = { status: 403 | 415; message: string } | undefined;

export const READ_ONLY = 'The jobs dashboard is read-only (Dashboard__ReadOnly=true): nothing was changed.';
export const CROSS_SITE = 'Refused: the request came from another site. Nothing was changed.';
export const JSON_ONLY = 'Send writes to the API with Content-Type: application/json; nothing was changed.';

/**
 * What every write (a form's POST, an API POST or DELETE) must pass beyond access: the dashboard
 * is not read-only, and the request is not sent by a page of another site. Browsers say where a
 * request comes from in `Sec-Fetch-Site`, older ones in `Origin`; a request with neither is not
 * a browser's (curl, a script), which no other site can make a victim send. The API also needs
 * `Content-Type: application/json`, which no cross-site form can send and which a script on
 * another site cannot send without a CORS preflight that the dashboard never answers.
 */
export function refuseWrite(
  headers: IncomingHttpHeaders,
  { readOnly, api }: { readOnly: boolean; api: boolean },
): WriteRefusal {
  if (readOnly) return { status: 403, message: READ_ONLY };
  if (isCrossSite(headers)) return { status: 403, message: CROSS_SITE };
  if (api && !isJson(headers['content-type'])) return { status: 415, message: JSON_ONLY };
  return undefined;
}

export function isCrossSite(headers: IncomingHttpHeaders): boolean {
  const fetchSite = headers['sec-fetch-site'];
  if (fetchSite !== undefined) return fetchSite !== 'same-origin' && fetchSite !== 'none';
  const origin = headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== headers.host;
  } catch {
    return true; // "null" (a sandboxed frame, a redirect from elsewhere) or garbage
  }
}

/** `application/json`, with or without parameters such as `; charset=utf-8`. */
function isJson(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0].trim().toLowerCase() === 'application/json';
}
