import { MemoryBackgroundJobStore, MemoryStoreUnavailableError } from './memory-background-job-store';

/** The rest of its behaviour is the store contract's (test/contract/store.contract.test.ts). */
describe('MemoryBackgroundJobStore outage', () => {
  it('rejects calls with an unavailable error while simulateOutage is on, and serves again after', async () => {
    const store = new MemoryBackgroundJobStore();
    store.simulateOutage();
    const error = await store.count().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MemoryStoreUnavailableError);
    expect(store.isUnavailable(error)).toBe(true);
    const claim = {
      applicationName: null,
      jobNames: ['A'],
      limit: 1,
      now: new Date(),
      leaseUntil: new Date(),
      leaseToken: 'lease:x',
    };
    await expect(store.claim(claim)).rejects.toBeInstanceOf(MemoryStoreUnavailableError);
    store.simulateOutage(false);
    expect(await store.count()).toBe(0);
    expect(await store.claim(claim)).toEqual([]);
  });
});
