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
export { uuidV5, uniqueJobId, occurrenceJobId } from './store/derived-ids';
export * from './admin/background-jobs-admin.types';
export { StoreBackgroundJobsAdmin, EXACT_COUNT_LIMIT } from './admin/store-background-jobs-admin';
export * from './store/job-admin-store';
export { WORKER_HEARTBEAT_PERIOD_MS, WORKER_HEARTBEAT_LIVE_MS } from './worker/worker-heartbeat';
export { RecurringJob } from './schedules/recurring-job.decorator';
export type { RecurringJobOptions } from './schedules/recurring-job.decorator';
export { RecurringJobs } from './schedules/recurring-jobs.service';
export type { RecurringJobSchedule, ScheduleView } from './schedules/recurring-jobs.service';
export { InvalidScheduleError } from './schedules/cron-schedule';
export { ScheduleNotFoundError, ScheduleDeclaredInCodeError } from './schedules/schedule-errors';
export type { SaveScheduleOutcome } from './schedules/save-schedule';
export { cancelJob } from './cancellation/cancel-job';
export type { CancelOutcome } from './cancellation/cancel-job';
export { JobCancelledError } from './cancellation/job-cancelled.error';
export type { UniqueConflict, UniqueEnqueueOutcome } from './store/unique-enqueue';
export { NotInTransactionError } from './store/caller-transaction';
export type { RetryPolicy, BackoffKind } from './worker/retry-policy';
export { addDedicatedWorker, DEFAULT_WORKER_LOCK_NAME } from './worker/dedicated-workers';
export type { DedicatedJob } from './worker/dedicated-workers';
export { MAX_RESULT_LENGTH } from './worker/job-result';
export { CLEANUP_LOCK_NAME } from './worker/successful-job-cleanup';
export { OnBackgroundJobEvent } from './events/on-background-job-event.decorator';
export type { BackgroundJobEventName } from './events/on-background-job-event.decorator';
export type { BackgroundJobEvent } from './events/background-job-event';
