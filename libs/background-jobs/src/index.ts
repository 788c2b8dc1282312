export * from './background-jobs.module';
export * from './background-jobs.options';
export * from './background-job-priority';
export * from './background-job-manager';
export * from './background-job.registry';
export * from './async-background-job';
export * from './errors';
export * from './decorators/background-job.decorator';
export * from './decorators/background-job-name.decorator';
export * from './entities/background-job-record.entity';
export * from './connection/connection-string';
export * from './store/background-job-store';
export * from './store/background-job-record';
export { createBackgroundJobStore } from './store/store.factory';
export { WorkerOrchestrator, WorkerStatus } from './worker/worker.orchestrator';
export { MAX_JOB_ARGS_LENGTH } from './background-jobs.constants';
export { MemoryBackgroundJobStore, MemoryStoreUnavailableError } from './store/memory/memory-background-job-store';
export * from './store/enqueue-keys';
export {
  JobLifecycle,
  JobLifecycleListener,
  JobEnded,
  JobEndOutcome,
  EnqueuedJobs,
  EnqueueSend,
} from './worker/job-lifecycle';
export { JobMetrics, JOB_METRICS } from './observability/job-metrics';
export { BacklogMetrics, BacklogMetricsOptions, BACKLOG_METRICS } from './observability/backlog-metrics';
export { JobTracing, TRACER_NAME } from './observability/job-tracing';
export { traceCarrierOf, TraceCarrier } from './observability/trace-carrier';
