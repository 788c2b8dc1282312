import { LoggerService } from '@nestjs/common';
import { describeError } from './last-error';

/**
 * Tracks whether the database answers, so an outage is logged once when it starts and once when
 * it ends (not once per poll), and retries back off while it lasts.
 */
export class DatabaseHealth {
  private downSince?: number;
  private failures = 0;

  constructor(private readonly logger: LoggerService) {}

  get isUp(): boolean {
    return this.downSince === undefined;
  }

  failed(error: unknown): void {
    this.failures++;
    if (this.downSince !== undefined) return;
    this.downSince = Date.now();
    this.logger.error(`Lost the database; retrying with backoff: ${firstLine(describeError(error))}`);
  }

  succeeded(): void {
    if (this.downSince === undefined) return;
    this.logger.log(`The database is back after ${((Date.now() - this.downSince) / 1000).toFixed(1)} s`);
    this.downSince = undefined;
    this.failures = 0;
  }

  /** 250 ms doubling per failure, at most the poll period (and at least 250 ms). */
  retryDelay(pollPeriod: number): number {
    return Math.max(250, Math.min(250 * 2 ** Math.max(this.failures - 1, 0), pollPeriod, 15_000));
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0];
}
