import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger, Optional } from '@nestjs/common';
import type { Request, Response } from 'express';
import { JobArgsTooLargeError, StoreUnavailableError } from '@app/background-jobs';
import { DashboardErrorResponder } from '@app/background-jobs-dashboard';
import { renderIndex } from './render-index';
import { firstValue, InvalidSubmissionIdError, submissionIdOf } from './submission-id';

const TOO_LARGE = 'The text is too long for one job: shorten it and try again.';
const TOO_MANY_FIELDS = 'The form has too many fields: send only the fields of this page.';
/** After an outage mid-insert the row may exist; the form keeps its submission id, so a repeat finds it. */
const UNAVAILABLE =
  'The job database did not answer, so the job may or may not have been queued. ' +
  'Sending this form again is safe: a job it already queued is not queued a second time.';

/**
 * Bad input and outages as a page a person can act on, with the right status code. The typed text
 * and the form's submission id are kept, so sending it again is one click and cannot queue twice.
 */
@Catch()
export class ErrorPageFilter implements ExceptionFilter {
  private readonly logger = new Logger('Web');

  /** Absent when the dashboard is not mounted (Dashboard__Enabled=false). */
  constructor(@Optional() private readonly dashboard?: DashboardErrorResponder) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    // Errors below the dashboard's path raised before its routes run (the CSRF check, a body
    // parser, an unknown path): answered as the dashboard answers, a page of its own or JSON.
    if (this.dashboard?.owns(req)) {
      void this.dashboard.respond(error, req, res);
      return;
    }
    const [status, text] = this.describe(error);
    if (status >= 500)
      this.logger.error(
        `${req.method} ${req.url} -> ${status}: ${error instanceof Error ? error.message : String(error)}`,
      );
    if (res.headersSent) return;
    const body = req.body as Record<string, unknown> | undefined;
    const typed = firstValue(body?.ReportContent);
    const reportContent = status !== 413 ? typed : undefined;
    if (req.accepts(['html', 'json']) === 'json') {
      res.status(status).json({ statusCode: status, message: text });
      return;
    }
    renderIndex(
      req,
      res,
      {
        alerts: [{ type: status >= 500 ? 'warning' : 'danger', text }],
        reportContent,
        submissionId: keptSubmissionId(body),
      },
      status,
    );
  }

  private describe(error: unknown): [number, string] {
    if (error instanceof JobArgsTooLargeError) return [HttpStatus.PAYLOAD_TOO_LARGE, TOO_LARGE];
    if (error instanceof StoreUnavailableError) return [HttpStatus.SERVICE_UNAVAILABLE, UNAVAILABLE];
    if (error instanceof InvalidSubmissionIdError) return [HttpStatus.BAD_REQUEST, error.message];
    if (error instanceof HttpException) {
      const status = error.getStatus();
      return [status, status === HttpStatus.NOT_FOUND ? 'There is no such page.' : error.message];
    }
    const httpError = error as { status?: number; statusCode?: number; type?: string; message?: string };
    const status = httpError.statusCode ?? httpError.status;
    if (httpError.type === 'parameters.too.many') return [HttpStatus.PAYLOAD_TOO_LARGE, TOO_MANY_FIELDS];
    if (status === 413 || httpError.type === 'entity.too.large') return [HttpStatus.PAYLOAD_TOO_LARGE, TOO_LARGE];
    if (status === 403) return [HttpStatus.FORBIDDEN, httpError.message ?? 'Forbidden'];
    if (status !== undefined && status >= 400 && status < 500) return [status, httpError.message ?? 'Bad request'];
    return [HttpStatus.INTERNAL_SERVER_ERROR, 'Something went wrong; nothing was queued.'];
  }
}

function keptSubmissionId(body: Record<string, unknown> | undefined): string | undefined {
  try {
    return submissionIdOf(body);
  } catch {
    return undefined;
  }
}
