/**
 * The way to stop one running job. Its AbortSignal is made only when the job asks for it: most
 * jobs never read it, and an AbortController per job costs allocation and garbage collection on
 * the path every job takes. Aborting also tells the runner at once (onAbort), so a job that
 * ignores its signal no longer holds a slot.
 */
export class JobAbort {
  private controller?: AbortController;
  private reason?: unknown;
  private listener?: (reason: unknown) => void;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason !== undefined) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  get aborted(): boolean {
    return this.reason !== undefined;
  }

  get abortReason(): unknown {
    return this.reason;
  }

  abort(reason: unknown): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.controller?.abort(reason);
    this.listener?.(reason);
  }

  /** The one listener, called once when abort() is; at once if it already was. */
  onAbort(listener: (reason: unknown) => void): void {
    this.listener = listener;
    if (this.reason !== undefined) listener(this.reason);
  }
}
