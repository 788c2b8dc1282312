import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { BACKGROUND_JOB_STORE, BackgroundJobStore } from '@app/background-jobs';

type Health = { status: 'ok'; database: string } | { status: 'unavailable'; database: string; message: string };

/**
 * Readiness for a load balancer or Kubernetes: 200 while the job database answers a constant
 * query (store.ping() reads no table, so a probe stays cheap however many rows wait), 503 otherwise.
 * Always JSON: probes send `Accept: *\/*`, for which the error filter would render the HTML page.
 */
@Controller('health')
export class HealthController {
  constructor(@Inject(BACKGROUND_JOB_STORE) private readonly store: BackgroundJobStore) {}

  @Get()
  async check(@Res({ passthrough: true }) res: Response): Promise<Health> {
    res.set('Cache-Control', 'no-store');
    try {
      await this.store.ping();
    } catch {
      res.status(HttpStatus.SERVICE_UNAVAILABLE);
      return { status: 'unavailable', database: this.store.dialect, message: 'The job database is not reachable' };
    }
    return { status: 'ok', database: this.store.dialect };
  }
}
