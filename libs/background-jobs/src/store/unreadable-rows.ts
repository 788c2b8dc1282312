import { Logger } from '@nestjs/common';
import { withLastError } from '../worker/last-error';
import { ClaimedJob, describeValue, readClaimedJob } from './background-job-record';
import type { ClaimRequest, ReleaseRequest } from './background-job-store';
import { newConcurrencyStamp } from './stamps';

/**
 * Claimed rows the store cannot read (see readClaimedJob). The claim has leased them already, so
 * each is abandoned under a new stamp with the reason as ABP's LastError, and the claim returns the
 * rest: one bad row never fails the claim for the rows beside it, nor stays leased to nobody.
 */
const logger = new Logger('BackgroundJobStore');

export interface UnreadableJob {
  /** The Id exactly as the driver returned it, so the fenced write finds the row whatever its type. */
  id: unknown;
  extraProperties: string;
  newStamp: string;
}

/** Logs the row's id and why it cannot run, and gives the abandonment to write. */
export function unreadableJob(row: Record<string, unknown>, reason: string, now: Date): UnreadableJob {
  logger.error(`Abandoned job ${describeValue(row.Id)} (${describeValue(row.JobName)}) when claiming it: ${reason}`);
  const old = typeof row.ExtraProperties === 'string' ? row.ExtraProperties : '';
  return {
    id: row.Id,
    extraProperties: withLastError(old, `The row cannot be read: ${reason}`, Number(row.TryCount), now),
    newStamp: newConcurrencyStamp(),
  };
}

/**
 * Writes the abandonments (fenced by the claim's lease token). If that fails, the rows are
 * released (due again, the try taken back) so the next claim meets them again; if that fails too,
 * their lease runs out. Never throws: the other claimed jobs are the caller's to run.
 */
export async function abandonOrRelease(
  jobs: UnreadableJob[],
  request: ClaimRequest,
  abandon: (jobs: UnreadableJob[]) => Promise<unknown>,
  release: (request: ReleaseRequest) => Promise<number>,
): Promise<void> {
  try {
    await abandon(jobs);
  } catch (error) {
    const ids = jobs.map((j) => String(j.id));
    logger.error(`Could not abandon unreadable job(s) ${ids.join(', ')}; releasing them: ${String(error)}`);
    await release({
      leaseToken: request.leaseToken,
      ids,
      now: request.now,
      newStamp: newConcurrencyStamp(),
      undoTry: true,
    }).catch((releaseError) =>
      logger.error(
        `Could not release unreadable job(s) ${ids.join(', ')} either; their lease runs out at ${request.leaseUntil.toISOString()}: ${String(releaseError)}`,
      ),
    );
  }
}

/**
 * The jobs of a claim's rows, each read by readClaimedJob; the rows that cannot be read are
 * abandoned (or released) through the dialect's own statements before the readable jobs return.
 */
export async function readClaimedRows(
  rows: Array<Record<string, unknown>>,
  request: ClaimRequest,
  previousLeaseExpired: (row: Record<string, unknown>) => boolean,
  abandon: (jobs: UnreadableJob[]) => Promise<unknown>,
  release: (request: ReleaseRequest) => Promise<number>,
): Promise<ClaimedJob[]> {
  const jobs: ClaimedJob[] = [];
  let unreadable: UnreadableJob[] | undefined;
  for (const row of rows) {
    const job = readClaimedJob(row, request, previousLeaseExpired(row));
    if (typeof job === 'string') (unreadable ??= []).push(unreadableJob(row, job, request.now));
    else jobs.push(job);
  }
  if (unreadable) await abandonOrRelease(unreadable, request, abandon, release);
  return jobs;
}
