import type { WorkerStatus } from '@app/background-jobs';
import { claimLoopLiveness } from './health-checks';

const NOW = 1_000_000;
const running = (overrides: Partial<WorkerStatus>): WorkerStatus => ({
  state: 'running',
  pollPeriodMs: 5000,
  startedAt: NOW - 60_000,
  runningJobs: 0,
  ...overrides,
});

describe('claimLoopLiveness', () => {
  it('is live while the claim loop went round within three poll periods', () => {
    expect(claimLoopLiveness(running({ lastClaimLoopTickAt: NOW - 14_000 }), NOW)).toMatchObject({
      live: true,
      lastRoundMsAgo: 14_000,
    });
    expect(claimLoopLiveness(running({ lastClaimLoopTickAt: NOW - 16_000 }), NOW)).toMatchObject({
      live: false,
      message: 'The claim loop has not gone round for more than 15000 ms',
    });
  });

  it('allows at least ten seconds however short the poll period', () => {
    const status = running({ pollPeriodMs: 200, lastClaimLoopTickAt: NOW - 9000 });
    expect(claimLoopLiveness(status, NOW).live).toBe(true);
    expect(claimLoopLiveness({ ...status, lastClaimLoopTickAt: NOW - 11_000 }, NOW).live).toBe(false);
  });

  it('counts from the start before the first round, and keeps a worker that is not running (yet, or any more) live', () => {
    expect(claimLoopLiveness(running({ startedAt: NOW - 1000 }), NOW).live).toBe(true);
    expect(claimLoopLiveness(running({ startedAt: NOW - 60_000 }), NOW).live).toBe(false);
    for (const state of ['starting', 'stopping', 'stopped'] as const)
      expect(claimLoopLiveness(running({ state, lastClaimLoopTickAt: NOW - 600_000 }), NOW)).toEqual({
        live: true,
        state,
      });
  });
});
