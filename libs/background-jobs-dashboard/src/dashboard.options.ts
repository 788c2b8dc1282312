import type { Request } from 'express';

/** Express's `trust proxy` forms: trust every hop, none, the nearest n hops, or these addresses and subnets. */
export type DashboardTrustProxy = boolean | number | string[];

export interface BackgroundJobsDashboardOptions {
  /** Where the dashboard is mounted; default `/jobs`. Its JSON API is under `<path>/api`. */
  path?: string;
  /** False mounts nothing at all; default true. */
  enabled?: boolean;
  /** No actions are shown and every write answers 403; default false. */
  readOnly?: boolean;
  /** With `password`: HTTP Basic auth for every request, local or not. Set both or neither. */
  username?: string;
  password?: string;
  /**
   * Decides who gets in instead of the local-requests rule (after HTTP Basic auth when that is set
   * too): for an app's own login. False or a rejection: 403.
   */
  authorize?: (req: Request) => boolean | Promise<boolean>;
  /**
   * The proxies whose `X-Forwarded-For` is believed when telling a local request from a remote
   * one, in Express's `trust proxy` forms; default none, so proxy headers count for nothing.
   */
  trustProxy?: DashboardTrustProxy;
  /**
   * A handlebars layout file rendered around every page, given `title`, `alerts` ({type, text}),
   * `jobsPath`, `{{{body}}}` and the sections `styles` and `scripts` (`{{{renderSection "scripts"}}}`);
   * default the dashboard's own Bootstrap layout.
   */
  layout?: string;
}

/** The options with their defaults, as the dashboard's parts read them. */
export interface ResolvedDashboardOptions {
  path: string;
  readOnly: boolean;
  basicAuth: { username: string; password: string } | undefined;
  authorize: ((req: Request) => boolean | Promise<boolean>) | undefined;
  trustProxy: DashboardTrustProxy;
  layout: string | undefined;
}

export const DEFAULT_DASHBOARD_PATH = '/jobs';

/** Letters, digits and `-._~/` only: the path is written into pages and links as it is. */
const PATH_PATTERN = /^(\/[A-Za-z0-9\-._~]+)+$/;

/** Throws, naming the option, on a path that is empty, `/` (the host app's own page) or has other characters. */
export function normalizeDashboardPath(path: string | undefined): string {
  const trimmed = (path ?? DEFAULT_DASHBOARD_PATH).trim().replace(/\/+$/, '');
  const withSlash = trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
  if (!PATH_PATTERN.test(withSlash)) {
    throw new Error(
      `The dashboard path "${path}" must be a path below the site's root, of letters, digits and -._~/ (e.g. /jobs)`,
    );
  }
  return withSlash;
}

export function resolveDashboardOptions(options: BackgroundJobsDashboardOptions): ResolvedDashboardOptions {
  const username = options.username ?? '';
  const password = options.password ?? '';
  if ((username === '') !== (password === '')) {
    throw new Error('The dashboard needs both a username and a password for HTTP Basic auth, or neither');
  }
  return {
    path: normalizeDashboardPath(options.path),
    readOnly: options.readOnly ?? false,
    basicAuth: username === '' ? undefined : { username, password },
    authorize: options.authorize,
    trustProxy: options.trustProxy ?? false,
    layout: options.layout,
  };
}
