import { LoggerService } from '@nestjs/common';
import type { ScheduleDefinition, ScheduleRecord, ScheduleStore } from '../store/schedule-store';
import { describeError } from '../worker/last-error';
import { WakeableSleep } from '../worker/wakeable-sleep';
import { CronSchedule } from './cron-schedule';
import { saveSchedule } from './save-schedule';
import { occurrenceJobRow } from './schedule-jobs';

export interface RecurringJobSchedulerOptions {
  applicationName: string | null;
  /** How often the schedules are read again, for changes other processes made (ms). */
  refreshMs: number;
  /** Pause after a failed round (the database away), before the next (ms). */
  retryMs?: number;
}

interface LoadedSchedule {
  record: ScheduleRecord;
  cron?: CronSchedule;
}

/**
 * The part of a worker process that enqueues recurring jobs. It needs no leader: every worker
 * runs one, and for each occurrence they all try the same write (see ScheduleStore.enqueueRun:
 * the cursor moves only forward, in the same transaction as the job row's insert, and the row's
 * id is derived from the schedule and the occurrence), so exactly one enqueues it.
 *
 * It sleeps until the next occurrence of any schedule, or until the next refresh of the schedules
 * from the table. Only the latest occurrence due is enqueued: occurrences missed while no worker
 * ran (or the database was away) run once, not once each. It writes the schedules declared in
 * code (`@RecurringJob`) at start, and runs those only while this process declares them (a
 * declaration removed from code stays in the table, inert, until removed); schedules added at
 * run time run on every worker of their application.
 */
export class RecurringJobScheduler {
  private schedules: LoadedSchedule[] = [];
  private readonly sleep = new WakeableSleep();
  private stopped = false;
  private loop?: Promise<void>;
  private declarationsSaved = false;
  private refreshAt = 0;
  private failing = false;
  /** Definition stamps already reported as unusable, so each is logged once. */
  private readonly reported = new Set<string>();
  private readonly declaredNames: Set<string>;

  constructor(
    private readonly store: ScheduleStore,
    private readonly declarations: readonly ScheduleDefinition[],
    private readonly options: RecurringJobSchedulerOptions,
    private readonly logger: LoggerService,
  ) {
    this.declaredNames = new Set(declarations.map((d) => d.name));
  }

  start(): void {
    if (this.loop) return;
    this.loop = this.run();
  }

  /** Enqueues nothing more; resolves when a round under way has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.sleep.interrupt();
    await this.loop;
  }

  /** Reads the schedules again now (after a change made in this process). */
  refresh(): void {
    this.refreshAt = 0;
    this.sleep.interrupt();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let waitMs: number;
      try {
        if (!this.declarationsSaved) await this.saveDeclarations();
        if (Date.now() >= this.refreshAt) await this.load();
        await this.enqueueDue();
        if (this.failing) this.logger.log('Recurring jobs: the schedules can be read again');
        this.failing = false;
        waitMs = this.untilNextWork();
      } catch (error) {
        if (!this.failing) this.logger.error(`Recurring jobs: a round failed; retrying: ${describeError(error)}`);
        this.failing = true;
        waitMs = this.options.retryMs ?? Math.min(this.options.refreshMs, 5000);
      }
      if (!this.stopped) await this.sleep.sleep(waitMs);
    }
  }

  private async saveDeclarations(): Promise<void> {
    for (const declaration of this.declarations) {
      const outcome = await saveSchedule(this.store, declaration, new Date());
      if (outcome !== 'unchanged')
        this.logger.log(
          `Recurring job schedule "${declaration.name}" (${declaration.cron}) ${outcome} from @RecurringJob`,
        );
    }
    this.declarationsSaved = true;
  }

  private async load(): Promise<void> {
    const rows = await this.store.list(this.options.applicationName);
    const previous = new Map(this.schedules.map((s) => [s.record.name, s]));
    this.schedules = rows
      .filter((row) => row.source === 'runtime' || this.declaredNames.has(row.name))
      .map((record) => {
        const known = previous.get(record.name);
        // A cursor this worker already moved past (its own enqueue) stays moved.
        if (
          known &&
          known.record.definitionStamp === record.definitionStamp &&
          known.record.lastOccurrenceTime > record.lastOccurrenceTime
        )
          record.lastOccurrenceTime = known.record.lastOccurrenceTime;
        return { record, cron: this.parse(record) };
      });
    this.refreshAt = Date.now() + this.options.refreshMs;
  }

  /** A schedule the table holds but this worker cannot read is logged once per definition and left alone. */
  private parse(record: ScheduleRecord): CronSchedule | undefined {
    try {
      return CronSchedule.parse(record.cron, record.timeZone);
    } catch (error) {
      if (!this.reported.has(record.definitionStamp)) {
        this.reported.add(record.definitionStamp);
        this.logger.error(`Recurring job schedule "${record.name}" cannot run: ${(error as Error).message}`);
      }
      return undefined;
    }
  }

  private async enqueueDue(): Promise<void> {
    for (const schedule of this.schedules) {
      if (this.stopped) return;
      const { record, cron } = schedule;
      if (record.isPaused || !cron) continue;
      const now = new Date();
      const occurrence = cron.latestAtOrBefore(now);
      if (!occurrence || occurrence <= record.lastOccurrenceTime) continue;
      const job = occurrenceJobRow(record, occurrence, now);
      const enqueued = await this.store.enqueueRun(
        { name: record.name, job, occurrence: { time: occurrence, definitionStamp: record.definitionStamp } },
        now,
      );
      // Enqueued here or by another worker (or the definition changed): this occurrence is done either way.
      record.lastOccurrenceTime = occurrence;
      if (enqueued)
        this.logger.log(
          `Recurring job "${record.name}" enqueued ${record.jobName} ${job.id} for ${occurrence.toISOString()}`,
        );
    }
  }

  /** Milliseconds until the next occurrence of any running schedule, or the next refresh if sooner. */
  private untilNextWork(): number {
    const now = new Date();
    let next = this.refreshAt;
    for (const { record, cron } of this.schedules) {
      if (record.isPaused || !cron) continue;
      const at = cron.nextAfter(now)?.getTime();
      if (at !== undefined && at < next) next = at;
    }
    return Math.max(next - now.getTime(), 0);
  }
}
