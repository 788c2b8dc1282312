import { Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import {
  HealthCheckResult,
  HealthCheckService,
  HealthIndicatorFunction,
  HealthIndicatorResult,
  HealthIndicatorService,
} from '@nestjs/terminus';
import { BACKGROUND_JOB_STORE, BackgroundJobStore, WorkerOrchestrator, WorkerStatus } from '@app/background-jobs';

/** A probe's answer: 200 with every check up, 503 otherwise; the body is @nestjs/terminus's. */
export interface HealthAnswer {
  status: 200 | 503;
  body: HealthCheckResult;
}

/** Longer than this and the database counts as not answering (Kubernetes' probes wait 1 s by default; the README's manifest 3). */
export const DATABASE_CHECK_TIMEOUT_MS = 2000;

/** The claim loop goes round at least once per poll period; this many periods without a round is a stuck worker. */
const MISSED_POLL_PERIODS = 3;
/** ... and never less than this, so a short poll period and a garbage-collection pause do not restart a worker. */
const MIN_CLAIM_LOOP_SILENCE_MS = 10_000;
const NIL_ID = '00000000-0000-0000-0000-000000000000';

/**
 * Liveness and readiness, with @nestjs/terminus, for both apps. Live: the event loop answers (this
 * is running) and, in a worker, the claim loop has gone round within a few poll periods (a worker
 * that is draining at shutdown stays live). Ready: the job database answers a constant query, and
 * the schema is in place (both tables answer a lookup by primary key). Messages say what is wrong
 * without connection details: probes are often reachable by more people than logs are.
 */
@Injectable()
export class HealthChecks {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(BACKGROUND_JOB_STORE) private readonly store: BackgroundJobStore,
    private readonly worker: WorkerOrchestrator,
  ) {}

  live(): Promise<HealthAnswer> {
    const checks: HealthIndicatorFunction[] = [() => this.indicators.check('eventLoop').up()];
    if (this.worker.status.state !== 'disabled') checks.push(() => this.claimLoop(this.worker.status));
    return this.answer(checks);
  }

  ready(): Promise<HealthAnswer> {
    return this.answer([() => this.database(), () => this.schema()]);
  }

  private async answer(checks: HealthIndicatorFunction[]): Promise<HealthAnswer> {
    try {
      return { status: 200, body: await this.health.check(checks) };
    } catch (error) {
      if (error instanceof ServiceUnavailableException)
        return { status: 503, body: error.getResponse() as HealthCheckResult };
      throw error;
    }
  }

  private claimLoop(status: WorkerStatus): HealthIndicatorResult {
    const indicator = this.indicators.check('claimLoop');
    const { live, ...facts } = claimLoopLiveness(status, Date.now());
    return live ? indicator.up(facts) : indicator.down(facts);
  }

  private async database(): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check('database');
    const dialect = this.store.dialect;
    try {
      await withTimeout(this.store.ping());
      return indicator.up({ dialect });
    } catch (error) {
      const message = error instanceof CheckTimeoutError ? error.message : 'The job database is not reachable';
      return indicator.down({ dialect, message });
    }
  }

  private async schema(): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check('schema');
    try {
      await withTimeout(Promise.all([this.store.find(NIL_ID), this.store.findEnqueueKeys([NIL_ID])]));
      return indicator.up();
    } catch (error) {
      if (error instanceof CheckTimeoutError || this.store.isUnavailable(error))
        return indicator.down({ message: 'Not checked: the job database is not reachable' });
      return indicator.down({
        message:
          'The AbpBackgroundJobs tables are missing or incomplete: run `npm run migrate`, or start an app with Database__AutoMigrate=true',
      });
    }
  }
}

/**
 * Whether a worker's claim loop is alive: it went round within a few poll periods (counted from
 * the worker's start before its first round). A worker not running yet, or draining, is live.
 */
export function claimLoopLiveness(
  status: WorkerStatus,
  now: number,
): { live: boolean; state: WorkerStatus['state']; lastRoundMsAgo?: number; runningJobs?: number; message?: string } {
  if (status.state !== 'running') return { live: true, state: status.state };
  const since = status.lastClaimLoopTickAt ?? status.startedAt ?? now;
  const lastRoundMsAgo = Math.max(0, now - since);
  const limitMs = Math.max(MISSED_POLL_PERIODS * status.pollPeriodMs, MIN_CLAIM_LOOP_SILENCE_MS);
  const facts = { state: status.state, lastRoundMsAgo, runningJobs: status.runningJobs };
  if (lastRoundMsAgo <= limitMs) return { live: true, ...facts };
  return { live: false, ...facts, message: `The claim loop has not gone round for more than ${limitMs} ms` };
}

class CheckTimeoutError extends Error {
  constructor() {
    super(`The job database did not answer within ${DATABASE_CHECK_TIMEOUT_MS} ms`);
  }
}

function withTimeout<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckTimeoutError()), DATABASE_CHECK_TIMEOUT_MS);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
