/** No schedule has this name (in this application). */
export class ScheduleNotFoundError extends Error {
  constructor(readonly scheduleName: string) {
    super(`No schedule is named "${scheduleName}"`);
    this.name = 'ScheduleNotFoundError';
  }
}

/**
 * The schedule comes from `@RecurringJob` in code: workers write it back when they start, so it
 * cannot be changed or removed at run time. Pause it, or change the decorator.
 */
export class ScheduleDeclaredInCodeError extends Error {
  constructor(readonly scheduleName: string) {
    super(
      `The schedule "${scheduleName}" is declared in code by @RecurringJob; change or remove the decorator, or pause the schedule`,
    );
    this.name = 'ScheduleDeclaredInCodeError';
  }
}
