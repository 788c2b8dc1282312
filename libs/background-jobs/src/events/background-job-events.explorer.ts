import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { BACKGROUND_JOBS_OPTIONS } from '../background-jobs.tokens';
import { ResolvedBackgroundJobsOptions } from '../background-jobs.options';
import { JobLifecycle } from '../worker/job-lifecycle';
import type { BackgroundJobEvent, BackgroundJobEventHandler } from './background-job-event';
import { JobEventDispatcher } from './job-event-dispatcher';
import { backgroundJobEventsOf } from './on-background-job-event.decorator';

/**
 * Finds the methods decorated with @OnBackgroundJobEvent on the providers of the app (as
 * @nestjs/bullmq finds @OnWorkerEvent) and, in a process that runs jobs, hands them to the job
 * lifecycle through a JobEventDispatcher. Only singletons can be called outside a request: a
 * handler on a request-scoped or transient provider is refused at start, naming it.
 */
@Injectable()
export class BackgroundJobEventsExplorer implements OnModuleInit {
  private readonly logger = new Logger('BackgroundJobEvents');

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly lifecycle: JobLifecycle,
    @Inject(BACKGROUND_JOBS_OPTIONS) private readonly options: ResolvedBackgroundJobsOptions,
  ) {}

  onModuleInit(): void {
    if (!this.options.isJobExecutionEnabled) return;
    const handlers = this.findHandlers();
    if (handlers.length === 0) return;
    this.lifecycle.listen(new JobEventDispatcher(handlers, this.logger));
    this.logger.log(`Background job event handlers: ${handlers.map((h) => `${h.name} (${h.event})`).join(', ')}`);
  }

  private findHandlers(): BackgroundJobEventHandler[] {
    const handlers: BackgroundJobEventHandler[] = [];
    const seen = new Set<object>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, (event: BackgroundJobEvent) => unknown> | null | undefined;
      // Class providers, factories and values alike; a request-scoped one has no instance yet, only its class.
      const prototype = (
        instance && typeof instance === 'object'
          ? Object.getPrototypeOf(instance)
          : (wrapper.metatype as { prototype?: unknown } | undefined)?.prototype
      ) as Record<string, unknown> | null | undefined;
      if (!prototype || prototype === Object.prototype) continue;
      const decorated = this.scanner
        .getAllMethodNames(prototype)
        .map((method) => ({ method, events: backgroundJobEventsOf(prototype[method]) }))
        .filter((m) => m.events.length > 0);
      if (decorated.length === 0) continue;
      const className: string = (prototype.constructor as { name?: string } | undefined)?.name ?? String(wrapper.name);
      const name = (method: string) => `${className}.${method}`;
      if (!wrapper.isDependencyTreeStatic() || wrapper.isTransient) {
        throw new Error(
          `@OnBackgroundJobEvent is on ${name(decorated[0].method)}, whose provider is request-scoped or transient; ` +
            'job events can only call a singleton provider',
        );
      }
      // The same instance provided by two modules has its handlers called once.
      if (!instance || seen.has(instance)) continue;
      seen.add(instance);
      for (const { method, events } of decorated) {
        for (const event of events) {
          handlers.push({ event, name: name(method), handle: (e) => instance[method](e) });
        }
      }
    }
    return handlers;
  }
}
