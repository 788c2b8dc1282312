import { Module } from '@nestjs/common';
import { AppCoreModule } from '../config/app-core.module';
import { ObservabilityModule } from '../observability/observability.module';
import { WorkerHttpServer } from './worker-http-server';

/** The job executor: the background-jobs worker running, and with Worker__HttpPort a port for probes and /metrics. */
@Module({
  imports: [AppCoreModule.register({ isJobExecutionEnabled: true }), ObservabilityModule.register('worker')],
  providers: [WorkerHttpServer],
})
export class WorkerModule {}
