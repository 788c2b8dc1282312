import { LoggerService } from '@nestjs/common';
import { describeError } from './last-error';

/**
 * Tracks whether the database answers, so an outage is logged once when it starts and once when
 * it ends (not once per poll), and retries back off while it lasts. Errors that are not an outage
 * (a statement the database refuses) are logged each time: they need a person.
 */
export class DatabaseHealth {
  private downSince?: number;
  private failures = 0;

  constructor(
    private readonly logger: LoggerService,
    private readonly isOutage: (error: unknown) => boolean,
  ) {}

  /** `outage`: the caller knows the connection is gone (the LISTEN connection closed). */
  failed(error: unknown, outage = this.isOutage(error)): void {
    this.failures++;
    if (!outage) {
      this.logger.error(`A database operation failed: ${describeError(error)}`);
      return;
    }
    if (this.downSince !== undefined) return;
    this.downSince = Date.now();
    this.logger.error(`Lost the database; retrying with backoff: ${firstLine(describeError(error))}`);
  }

  /**
   * `startedAt`: when the operation was sent. One sent before the outage began may still come back
   * fine while the server shuts down; it does not mean the database is back.
   */
  succeeded(startedAt = Date.now()): void {
    if (this.downSince !== undefined && startedAt <= this.downSince) return;
    this.failures = 0;
    if (this.downSince === undefined) return;
    this.logger.log(`The database is back after ${((Date.now() - this.downSince) / 1000).toFixed(1)} s`);
    this.downSince = undefined;
  }

  /** 250 ms doubling per failure, at most the poll period (and at least 250 ms). */
  retryDelay(pollPeriod: number): number {
    return Math.max(250, Math.min(250 * 2 ** Math.max(this.failures - 1, 0), pollPeriod, 15_000));
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0];
}
