import { HttpException, Inject, Injectable, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { StoreUnavailableError } from '@app/background-jobs';
import { AdminInputError } from '@app/background-jobs/admin/background-jobs-admin.types';
import { ScheduleNotFoundError } from '@app/background-jobs/schedules/schedule-errors';
import { accessRefusal, wasLetIn } from '../access/dashboard-access.guard';
import { JSON_ONLY } from '../access/write-rules';
import type { ResolvedDashboardOptions } from '../dashboard.options';
import { DASHBOARD_OPTIONS } from '../dashboard.tokens';
import { DashboardRenderer } from '../view/dashboard-renderer';
import { DashboardError } from './dashboard-error';

interface Described {
  status: number;
  message: string;
  headers: Record<string, string>;
  accessDenied: boolean;
}

const UNAVAILABLE = 'The job database did not answer; nothing was changed. Try again in a moment.';
const FAILED = 'Something went wrong; nothing was changed.';

/**
 * Every error of a dashboard request as the dashboard answers it: `{ "message" }` with its status
 * under `<path>/api`, a page in the layout elsewhere. Used by the dashboard's own exception filter,
 * and by a host app's global filter for errors raised before a dashboard route runs (a body
 * parser, the host's CSRF check): see `owns`.
 */
@Injectable()
export class DashboardErrorResponder {
  private readonly logger = new Logger('Dashboard');

  constructor(
    @Inject(DASHBOARD_OPTIONS) private readonly options: ResolvedDashboardOptions,
    private readonly renderer: DashboardRenderer,
  ) {}

  /** Whether a request is the dashboard's (its path or below). */
  owns(req: Request): boolean {
    return req.path === this.options.path || req.path.startsWith(`${this.options.path}/`);
  }

  isApi(req: Request): boolean {
    return req.path === `${this.options.path}/api` || req.path.startsWith(`${this.options.path}/api/`);
  }

  /**
   * Answers the error; never rejects. A request the access rules do not let in gets their refusal
   * instead of what went wrong (an unknown path, a failed CSRF check): it sees nothing else.
   */
  async respond(error: unknown, req: Request, res: Response): Promise<void> {
    try {
      const refusal = wasLetIn(req) || isAccessRefusal(error) ? undefined : await accessRefusal(req, this.options);
      this.answer(refusal ?? error, req, res);
    } catch (failure) {
      this.answer(failure, req, res);
    }
  }

  private answer(error: unknown, req: Request, res: Response): void {
    const api = this.isApi(req);
    const { status, message, headers, accessDenied } = this.describe(error, api);
    if (status >= 500) this.logger.error(`${req.method} ${req.path} -> ${status}: ${errorText(error)}`);
    if (res.headersSent) return;
    res.set(headers);
    if (api) {
      res.set('Cache-Control', 'no-store');
      res.status(status).json({ message });
      return;
    }
    this.renderer.render(req, res, 'error', { title: titleOf(status), message, refused: accessDenied }, status);
  }

  private describe(error: unknown, api: boolean): Described {
    const plain = (status: number, message: string): Described => ({
      status,
      message,
      headers: {},
      accessDenied: false,
    });
    if (error instanceof DashboardError) {
      return {
        status: error.status,
        message: error.message,
        headers: error.details.headers ?? {},
        accessDenied: error.details.accessDenied ?? false,
      };
    }
    if (error instanceof AdminInputError) return plain(400, error.message);
    if (error instanceof ScheduleNotFoundError) return plain(404, error.message);
    if (error instanceof StoreUnavailableError) return plain(503, UNAVAILABLE);
    if (error instanceof HttpException) {
      const status = error.getStatus();
      return plain(status, status === 404 ? 'There is no such page.' : error.message);
    }
    // Errors of Express middleware (body-parser, csrf-csrf, the host's own): http-errors' shape.
    const httpError = error as { status?: number; statusCode?: number; type?: string; message?: string };
    const status = httpError.statusCode ?? httpError.status;
    if (status !== undefined && status >= 400 && status < 500) {
      if (api && status === 415) return plain(415, JSON_ONLY);
      if (httpError.type === 'entity.parse.failed')
        return plain(400, 'The body is not valid JSON; nothing was changed.');
      return plain(status, httpError.message ?? 'Bad request');
    }
    return plain(500, FAILED);
  }
}

function isAccessRefusal(error: unknown): boolean {
  return error instanceof DashboardError && error.details.accessDenied === true;
}

function titleOf(status: number): string {
  if (status === 401) return 'Sign in';
  if (status === 403) return 'Refused';
  if (status === 404) return 'Not found';
  return 'Error';
}

function errorText(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
