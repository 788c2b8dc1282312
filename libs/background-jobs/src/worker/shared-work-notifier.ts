import type { WorkNotifier } from '../store/background-job-store';

interface Subscriber {
  onWork: () => void;
  onStateChange: (connected: boolean, error?: unknown) => void;
}

/**
 * The store's notifier (PostgreSQL's LISTEN connection) shared by the workers of one process
 * (the default worker and the dedicated ones): one subscription while any of them listens, each
 * wake-up and state change passed to all of them.
 */
export class SharedWorkNotifier {
  private readonly subscribers = new Set<Subscriber>();
  private subscribed?: Promise<void>;

  constructor(private readonly notifier: WorkNotifier) {}

  /** A notifier for one worker. */
  forWorker(): WorkNotifier {
    let own: Subscriber | undefined;
    return {
      description: this.notifier.description,
      subscribe: async (onWork, onStateChange) => {
        own = { onWork, onStateChange };
        this.subscribers.add(own);
        this.subscribed ??= this.notifier.subscribe(
          () => this.subscribers.forEach((s) => s.onWork()),
          (connected, error) => this.subscribers.forEach((s) => s.onStateChange(connected, error)),
        );
        await this.subscribed;
      },
      unsubscribe: async () => {
        if (own) this.subscribers.delete(own);
        own = undefined;
        if (this.subscribers.size > 0 || !this.subscribed) return;
        this.subscribed = undefined;
        await this.notifier.unsubscribe();
      },
    };
  }
}
