import { LoggerService } from '@nestjs/common';
import { BackgroundJobStore, JobNameCount } from '../store/background-job-store';

/** Names spelled out in one log line; the rest are counted. */
const NAMES_SHOWN = 10;

/**
 * Rows whose job name no job of this app knows (an old job, a typo such as a trailing space)
 * wait forever: a worker claims only names it runs and, as ABP, leaves the others alone. This
 * makes them visible: at start and then once an hour (WorkerHousekeeping) the worker logs how
 * many due rows have such names, e.g. `3 due rows have job names no worker here runs: "MyReportJobArgs " (2), "Old" (1)`.
 */
export class ForeignJobNamesReport {
  constructor(
    private readonly store: BackgroundJobStore,
    private readonly applicationName: string | null,
    /** The job names this app runs, read at each report: dynamic handlers come and go. */
    private readonly knownNames: () => Iterable<string>,
    private readonly logger: LoggerService,
  ) {}

  /** Logs the due rows of unknown names, if any; a database that does not answer is the outage log's business. */
  async reportOnce(): Promise<void> {
    let counts: JobNameCount[];
    try {
      counts = await this.store.countDueByJobName(this.applicationName, new Date());
    } catch {
      return;
    }
    const known = new Set(this.knownNames());
    const foreign = counts.filter((c) => !known.has(c.jobName));
    if (foreign.length === 0) return;
    const rows = foreign.reduce((sum, c) => sum + c.count, 0);
    const shown = foreign.slice(0, NAMES_SHOWN).map((c) => `${JSON.stringify(c.jobName)} (${c.count})`);
    if (foreign.length > NAMES_SHOWN) shown.push(`and ${foreign.length - NAMES_SHOWN} more names`);
    this.logger.warn(
      `${rows} due ${rows === 1 ? 'row has a job name' : 'rows have job names'} no worker here runs: ${shown.join(', ')}`,
    );
  }
}
