import { Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, ModuleRef } from '@nestjs/core';
import { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper';
import { BACKGROUND_JOB_METADATA } from './background-jobs.constants';
import { BackgroundJobMetadata } from './decorators/background-job.decorator';
import { getJobName } from './decorators/background-job-name.decorator';
import { BackgroundJobRegistry } from './background-job.registry';
import { AsyncBackgroundJob } from './async-background-job';

/** Finds the providers decorated with @BackgroundJob and fills the registry. */
@Injectable()
export class BackgroundJobExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly moduleRef: ModuleRef,
    private readonly registry: BackgroundJobRegistry,
  ) {}

  onModuleInit(): void {
    const seen = new Set<unknown>();
    for (const wrapper of this.discovery.getProviders()) {
      const metatype = wrapper.metatype as (new (...args: never[]) => unknown) | undefined;
      if (!metatype || typeof metatype !== 'function' || wrapper.inject) continue;
      // The same job class provided by two modules is one job, not a duplicate name.
      if (seen.has(metatype)) continue;
      seen.add(metatype);
      const metadata = Reflect.getMetadata(BACKGROUND_JOB_METADATA, metatype) as BackgroundJobMetadata | undefined;
      if (!metadata) continue;
      this.registry.register({
        jobName: getJobName(metadata.argsType),
        argsType: metadata.argsType,
        jobTypeName: metatype.name,
        timeoutMs: metadata.timeoutMs,
        retry: metadata.retry,
        resolve: this.resolverFor(wrapper, metatype),
        // Singletons are built before onModuleInit runs.
        instance: isSingleton(wrapper) ? (wrapper.instance as AsyncBackgroundJob<unknown>) : undefined,
      });
    }
  }

  private resolverFor(wrapper: InstanceWrapper, metatype: new (...args: never[]) => unknown) {
    if (isSingleton(wrapper)) {
      return async () => wrapper.instance as AsyncBackgroundJob<unknown>;
    }
    return () => this.moduleRef.resolve<unknown, AsyncBackgroundJob<unknown>>(metatype, undefined, { strict: false });
  }
}

function isSingleton(wrapper: InstanceWrapper): boolean {
  return wrapper.isDependencyTreeStatic() && !wrapper.isTransient;
}
