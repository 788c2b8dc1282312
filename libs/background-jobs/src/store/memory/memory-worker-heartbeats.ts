import type { WorkerHeartbeatRow, WorkerHeartbeatStore } from '../job-admin-store';

/** The heartbeat table in memory. */
export class MemoryWorkerHeartbeats implements WorkerHeartbeatStore {
  private readonly beats = new Map<string, WorkerHeartbeatRow>();

  constructor(private readonly assertAvailable: () => void) {}

  async beat(heartbeat: WorkerHeartbeatRow): Promise<void> {
    this.assertAvailable();
    this.beats.set(heartbeat.id.toLowerCase(), {
      ...heartbeat,
      id: heartbeat.id.toLowerCase(),
      jobNames: [...heartbeat.jobNames],
    });
  }

  async remove(id: string): Promise<void> {
    this.assertAvailable();
    this.beats.delete(id.toLowerCase());
  }

  async prune(time: Date): Promise<number> {
    this.assertAvailable();
    let pruned = 0;
    for (const [id, beat] of this.beats)
      if (beat.lastHeartbeat.getTime() < time.getTime() && this.beats.delete(id)) pruned++;
    return pruned;
  }

  async live(since: Date): Promise<WorkerHeartbeatRow[]> {
    this.assertAvailable();
    return [...this.beats.values()]
      .filter((beat) => beat.lastHeartbeat.getTime() >= since.getTime())
      .sort((a, b) => b.lastHeartbeat.getTime() - a.lastHeartbeat.getTime())
      .map((beat) => ({ ...beat, jobNames: [...beat.jobNames] }));
  }
}
