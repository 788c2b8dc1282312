import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AppCoreModule } from '../config/app-core.module';
import { IndexController } from './index.controller';
import { ErrorPageFilter } from './error-page.filter';
import { HealthController } from './health.controller';
import { dashboardModule } from './dashboard';
import { MetricsController } from './metrics.controller';
import { ObservabilityModule } from '../observability/observability.module';

/** The web app: enqueues jobs and never executes them (ABP's IsJobExecutionEnabled = false); the jobs dashboard at Dashboard__Path. */
@Module({
  imports: [
    AppCoreModule.register({ isJobExecutionEnabled: false, httpLogging: false }),
    ObservabilityModule.register('web'),
    dashboardModule(),
  ],
  controllers: [IndexController, HealthController, MetricsController],
  providers: [{ provide: APP_FILTER, useClass: ErrorPageFilter }],
})
export class WebModule {}
