import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { BACKGROUND_JOB_STORE, BackgroundJobStore } from '@app/background-jobs';

/** Readiness for a load balancer or Kubernetes: 200 while the job database answers, 503 otherwise. */
@Controller('health')
export class HealthController {
  constructor(@Inject(BACKGROUND_JOB_STORE) private readonly store: BackgroundJobStore) {}

  @Get()
  async check(): Promise<{ status: 'ok'; database: string }> {
    try {
      await this.store.count(null);
    } catch {
      throw new ServiceUnavailableException('The job database is not reachable');
    }
    return { status: 'ok', database: this.store.dialect };
  }
}
