import { DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { AppMetrics } from './app-metrics';
import { HealthChecks } from './health-checks';
import { JobObservers } from './job-observers';
import { OBSERVED_APP } from './observed-app';
import type { AppProcess } from './tracing';

/**
 * Health checks, Prometheus metrics, and the trace and log context of jobs, for one of the two
 * apps; each app serves HealthChecks and AppMetrics over HTTP its own way (the web app's
 * controllers, the worker's WorkerHttpServer).
 */
@Module({})
export class ObservabilityModule {
  static register(app: AppProcess): DynamicModule {
    return {
      module: ObservabilityModule,
      // Probes fail every few seconds during an outage: terminus would log each one.
      imports: [TerminusModule.forRoot({ logger: false })],
      providers: [{ provide: OBSERVED_APP, useValue: app }, HealthChecks, AppMetrics, JobObservers],
      exports: [HealthChecks, AppMetrics],
    };
  }
}
