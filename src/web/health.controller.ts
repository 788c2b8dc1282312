import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { HealthAnswer, HealthChecks } from '../observability/health-checks';

/**
 * Probes for a load balancer or Kubernetes: /health/live (the process answers) and /health/ready
 * (the job database answers and its tables are in place; store.ping() reads no table, so a probe
 * stays cheap however many rows wait); /health is /health/ready, as it was before the two.
 * Always JSON, 200 or 503: probes send `Accept: *\/*`, for which the error filter would render the
 * HTML page.
 */
@Controller('health')
export class HealthController {
  constructor(private readonly checks: HealthChecks) {}

  @Get()
  async check(@Res() res: Response): Promise<void> {
    send(res, await this.checks.ready());
  }

  @Get('ready')
  async ready(@Res() res: Response): Promise<void> {
    send(res, await this.checks.ready());
  }

  @Get('live')
  async live(@Res() res: Response): Promise<void> {
    send(res, await this.checks.live());
  }
}

function send(res: Response, answer: HealthAnswer): void {
  res.set('Cache-Control', 'no-store').status(answer.status).json(answer.body);
}
