import { LocalQueueSize } from './local-queue-size';

describe('LocalQueueSize', () => {
  it('starts at two jobs per slot (at least 4) before any job has run', () => {
    expect(new LocalQueueSize(1, 1000).target).toBe(4);
    expect(new LocalQueueSize(24, 1000).target).toBe(48);
  });

  it('covers about 50 ms of work: many short jobs, one per slot for long ones', () => {
    const fast = new LocalQueueSize(24, 1000);
    for (let i = 0; i < 50; i++) fast.observe(0.1);
    expect(fast.target).toBe(1000);

    const slow = new LocalQueueSize(4, 1000);
    for (let i = 0; i < 50; i++) slow.observe(2000);
    expect(slow.target).toBe(4);

    const medium = new LocalQueueSize(8, 1000);
    for (let i = 0; i < 200; i++) medium.observe(5);
    expect(medium.target).toBe(80);
  });

  it('never exceeds MaxJobFetchCount, nor 1000', () => {
    const large = new LocalQueueSize(24, 5000);
    for (let i = 0; i < 50; i++) large.observe(0.01);
    expect(large.target).toBe(1000);
    const capped = new LocalQueueSize(24, 50);
    for (let i = 0; i < 50; i++) capped.observe(0.1);
    expect(capped.target).toBe(50);
    expect(new LocalQueueSize(24, 30).target).toBe(30);
  });
});
