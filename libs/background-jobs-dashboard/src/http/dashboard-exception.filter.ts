import { ArgumentsHost, Catch, ExceptionFilter, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { DashboardErrorResponder } from './dashboard-error-responder';

/** The dashboard's routes answer their own errors (before any global filter of the host app). */
@Catch()
@Injectable()
export class DashboardExceptionFilter implements ExceptionFilter {
  constructor(private readonly responder: DashboardErrorResponder) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    void this.responder.respond(error, http.getRequest<Request>(), http.getResponse<Response>());
  }
}
