import type { Request } from 'express';
import type { Actor } from '@app/background-jobs/admin/background-jobs-admin.types';
import type { ResolvedDashboardOptions } from '../dashboard.options';
import { basicCredentialsOf, credentialsMatch } from './basic-auth';
import { clientAddress, isLoopback } from './client-address';

export type AccessDecision =
  { allowed: true; actor: Actor } | { allowed: false; status: 401 | 403; message: string; challenge?: string };

export const BASIC_CHALLENGE = 'Basic realm="Background jobs", charset="UTF-8"';

export const ONLY_LOCAL =
  'The jobs dashboard answers only requests from this machine, unless it is given a username and password ' +
  '(Dashboard__Username, Dashboard__Password).';
export const SIGN_IN = 'Sign in to see the jobs dashboard.';
export const NOT_AUTHORIZED = 'You are not allowed to see the jobs dashboard.';

type AccessOptions = Pick<ResolvedDashboardOptions, 'basicAuth' | 'authorize' | 'trustProxy'>;

/**
 * Who may see the dashboard, closed by default: HTTP Basic auth for everyone when credentials are
 * set; then the `authorize` hook when given; with neither, only requests from this machine. The
 * actor named in the log line of an action is the Basic user, or else the client's address.
 */
export async function decideAccess(req: Request, options: AccessOptions): Promise<AccessDecision> {
  const address = clientAddress({ socketAddress: req.socket.remoteAddress, headers: req.headers }, options.trustProxy);
  const actorName = address ?? req.socket.remoteAddress ?? 'unknown';
  if (options.basicAuth) {
    const given = basicCredentialsOf(req.headers.authorization);
    if (!credentialsMatch(given, options.basicAuth)) {
      return { allowed: false, status: 401, message: SIGN_IN, challenge: BASIC_CHALLENGE };
    }
    if (options.authorize && !(await askAuthorize(options.authorize, req))) {
      return { allowed: false, status: 403, message: NOT_AUTHORIZED };
    }
    return { allowed: true, actor: { name: given!.username } };
  }
  if (options.authorize) {
    return (await askAuthorize(options.authorize, req))
      ? { allowed: true, actor: { name: actorName } }
      : { allowed: false, status: 403, message: NOT_AUTHORIZED };
  }
  if (address === undefined || !isLoopback(address)) return { allowed: false, status: 403, message: ONLY_LOCAL };
  return { allowed: true, actor: { name: address } };
}

/** Only a plain `true` lets in; a hook that throws fails the request (500) and lets no one in. */
async function askAuthorize(authorize: (req: Request) => boolean | Promise<boolean>, req: Request): Promise<boolean> {
  return (await authorize(req)) === true;
}
