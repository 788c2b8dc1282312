import type { ScheduleDefinition, ScheduleStore } from '../store/schedule-store';
import { newConcurrencyStamp } from '../store/stamps';
import { sameDefinition } from './schedule-definition';
import { ScheduleDeclaredInCodeError } from './schedule-errors';

/** What saving a schedule did. */
export type SaveScheduleOutcome = 'created' | 'updated' | 'unchanged';

/** Rounds of read-then-write; another process saving the same name at once makes one more round. */
const MAX_ROUNDS = 5;

/**
 * Creates the schedule, or writes its new definition over the row of its name, by a write that
 * names the stamp it read (no lock held between the read and the write). A new schedule counts
 * occurrences from `now`; so does one whose cron or zone changed (an occurrence of the old rule
 * that was missed must not run under the new one); other changes keep the cursor. A runtime save
 * never overwrites a schedule declared in code; a code declaration takes a runtime one over.
 */
export async function saveSchedule(
  store: ScheduleStore,
  definition: ScheduleDefinition,
  now: Date,
): Promise<SaveScheduleOutcome> {
  for (let round = 1; round <= MAX_ROUNDS; round++) {
    const existing = await store.find(definition.name);
    if (!existing) {
      const created = await store.insert({
        ...definition,
        isPaused: false,
        definitionStamp: newConcurrencyStamp(),
        creationTime: now,
        lastOccurrenceTime: now,
        lastEnqueueTime: null,
        lastJobId: null,
      });
      if (created) return 'created';
      continue;
    }
    if (existing.source === 'code' && definition.source === 'runtime')
      throw new ScheduleDeclaredInCodeError(definition.name);
    if (sameDefinition(existing, definition)) return 'unchanged';
    const ruleChanged = existing.cron !== definition.cron || existing.timeZone !== definition.timeZone;
    const cursor = ruleChanged ? now : existing.lastOccurrenceTime;
    if (await store.updateDefinition(definition, existing.definitionStamp, newConcurrencyStamp(), cursor))
      return 'updated';
  }
  throw new Error(
    `The schedule "${definition.name}" kept changing while it was saved (other processes wrote it); try again`,
  );
}
