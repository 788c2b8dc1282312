import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { collectDefaultMetrics, Registry } from 'prom-client';
import {
  BACKGROUND_JOB_STORE,
  BacklogMetrics,
  BackgroundJobStore,
  JobLifecycle,
  JobMetrics,
  WorkerOrchestrator,
} from '@app/background-jobs';
import { workerOptions } from '../config/app-settings';
import { OBSERVED_APP } from './observed-app';
import type { AppProcess } from './tracing';

/**
 * This process's Prometheus registry: prom-client's default process metrics, the job metrics of
 * its JobLifecycle and the backlog gauges read from the database when scraped. The web app always
 * records them; a worker only when it serves them (Worker__HttpPort), so a worker without a port
 * pays nothing.
 */
@Injectable()
export class AppMetrics implements OnModuleDestroy {
  private readonly registry?: Registry;
  private readonly stopListening?: () => void;

  constructor(
    @Inject(OBSERVED_APP) app: AppProcess,
    config: ConfigService,
    lifecycle: JobLifecycle,
    @Inject(BACKGROUND_JOB_STORE) store: BackgroundJobStore,
    worker: WorkerOrchestrator,
  ) {
    if (app === 'worker' && config.get<number>('Worker__HttpPort') === undefined) return;
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    this.stopListening = lifecycle.listen(new JobMetrics(registry, () => worker.status.runningJobs));
    new BacklogMetrics(registry, store, { applicationName: workerOptions(config).applicationName });
    this.registry = registry;
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    if (!this.registry) throw new Error('Metrics are not recorded in this process');
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  onModuleDestroy(): void {
    this.stopListening?.();
  }
}
