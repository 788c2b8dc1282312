import { Injectable } from '@nestjs/common';

/**
 * In-process wake-up: an enqueue in the worker's own process starts the job at once, on any
 * database (Hangfire does the same for local enqueues).
 */
@Injectable()
export class WorkerWakeup {
  private listener?: () => void;

  listen(listener: (() => void) | undefined): void {
    this.listener = listener;
  }

  wake(): void {
    this.listener?.();
  }
}
