/** 'interrupt-pending': an interrupt came while the loop was awake; the next sleep ends at once. */
type SleepState = 'awake' | 'sleeping' | 'interrupt-pending';

/**
 * The claim loop's wait between rounds. It ends when its time is up or at `interrupt()`; an
 * interrupt that comes while the loop is busy (not sleeping) ends the next sleep at once, so a
 * wake-up during a claim is never lost.
 */
export class WakeableSleep {
  private state: SleepState = 'awake';
  private endSleep?: () => void;

  sleep(ms: number): Promise<void> {
    if (this.state === 'interrupt-pending') {
      this.state = 'awake';
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wakeUp(), ms);
      this.state = 'sleeping';
      this.endSleep = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Ends the current sleep, or the next one if the loop is not sleeping now. */
  interrupt(): void {
    if (this.state === 'sleeping') this.wakeUp();
    else this.state = 'interrupt-pending';
  }

  private wakeUp(): void {
    const end = this.endSleep;
    this.endSleep = undefined;
    this.state = 'awake';
    end?.();
  }
}
