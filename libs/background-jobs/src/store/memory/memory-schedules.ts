import type { ScheduleDefinition, ScheduleRecord, ScheduleRun, ScheduleStore } from '../schedule-store';
import { insertIfAbsent, MemoryJobTables } from './memory-job-tables';

/** AbpBackgroundJobSchedules in memory, with the SQL dialects' semantics. */
export class MemorySchedules implements ScheduleStore {
  private readonly schedules = new Map<string, ScheduleRecord>();

  constructor(private readonly tables: MemoryJobTables) {}

  async list(applicationName?: string | null): Promise<ScheduleRecord[]> {
    this.tables.assertAvailable();
    return [...this.schedules.values()]
      .filter((s) => applicationName === undefined || s.applicationName === applicationName)
      .sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)))
      .map(copySchedule);
  }

  async find(name: string): Promise<ScheduleRecord | undefined> {
    this.tables.assertAvailable();
    const schedule = this.schedules.get(name);
    return schedule && copySchedule(schedule);
  }

  async insert(schedule: ScheduleRecord): Promise<boolean> {
    this.tables.assertAvailable();
    if (this.schedules.has(schedule.name)) return false;
    this.schedules.set(schedule.name, copySchedule(schedule));
    return true;
  }

  async updateDefinition(
    definition: ScheduleDefinition,
    expectedStamp: string,
    newStamp: string,
    lastOccurrenceTime: Date,
  ): Promise<boolean> {
    this.tables.assertAvailable();
    const schedule = this.schedules.get(definition.name);
    if (!schedule || schedule.definitionStamp !== expectedStamp) return false;
    Object.assign(schedule, definition, {
      definitionStamp: newStamp,
      lastOccurrenceTime: new Date(Math.max(schedule.lastOccurrenceTime.getTime(), lastOccurrenceTime.getTime())),
    });
    return true;
  }

  async setPaused(name: string, paused: boolean, resumedAt: Date): Promise<boolean> {
    this.tables.assertAvailable();
    const schedule = this.schedules.get(name);
    if (!schedule) return false;
    if (!paused && schedule.isPaused && resumedAt > schedule.lastOccurrenceTime)
      schedule.lastOccurrenceTime = new Date(resumedAt.getTime());
    schedule.isPaused = paused;
    return true;
  }

  async remove(name: string): Promise<boolean> {
    this.tables.assertAvailable();
    return this.schedules.delete(name);
  }

  async enqueueRun(run: ScheduleRun, now: Date): Promise<boolean> {
    this.tables.assertAvailable();
    const schedule = this.schedules.get(run.name);
    if (!schedule) return false;
    const occurrence = run.occurrence;
    if (occurrence) {
      if (schedule.isPaused || schedule.definitionStamp !== occurrence.definitionStamp) return false;
      if (schedule.lastOccurrenceTime.getTime() >= occurrence.time.getTime()) return false;
      schedule.lastOccurrenceTime = new Date(occurrence.time.getTime());
    }
    schedule.lastEnqueueTime = new Date(now.getTime());
    schedule.lastJobId = run.job.id.toLowerCase();
    insertIfAbsent(this.tables, { ...run.job, creationTime: now });
    return true;
  }
}

function copySchedule(schedule: ScheduleRecord): ScheduleRecord {
  return {
    ...schedule,
    creationTime: new Date(schedule.creationTime.getTime()),
    lastOccurrenceTime: new Date(schedule.lastOccurrenceTime.getTime()),
    lastEnqueueTime: schedule.lastEnqueueTime && new Date(schedule.lastEnqueueTime.getTime()),
  };
}
