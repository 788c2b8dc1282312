import Database from 'better-sqlite3';
import { appendFileSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteBackgroundJobStore } from './sqlite.dialect';
import { SqliteWalWatcher } from './sqlite-wal-watcher';

/** Real files and real SQLite connections in a temporary folder: the watch is the kernel's. */
describe('SqliteWalWatcher', () => {
  let dir: string;
  const cleanups: Array<() => unknown> = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bj-wal-watch-'));
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Counts wake-ups; `next()` resolves at the next one, or rejects after `ms`. */
  function wakeCounter() {
    let count = 0;
    let waiter: (() => void) | undefined;
    return {
      onWork: () => {
        count++;
        waiter?.();
      },
      get count() {
        return count;
      },
      next(ms = 2000): Promise<void> {
        return new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no wake-up within ${ms} ms`)), ms);
          waiter = () => {
            clearTimeout(timer);
            waiter = undefined;
            resolve();
          };
        });
      },
    };
  }

  const settle = (ms = 150) => new Promise((resolve) => setTimeout(resolve, ms));

  function openDb(file: string): Database.Database {
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    cleanups.push(() => db.close());
    return db;
  }

  describe('on a SQLite database', () => {
    async function watchedStore() {
      const file = join(dir, 'jobs.db');
      const own = openDb(file);
      const store = new SqliteBackgroundJobStore(own);
      await store.migrate();
      const other = openDb(file);
      const wakes = wakeCounter();
      await store.notifier!.subscribe(wakes.onWork, () => undefined);
      cleanups.push(() => store.notifier!.unsubscribe());
      expect(wakes.count).toBe(1); // the first look, for anything committed before the watch
      return { own, other, wakes };
    }

    const insertOn = (db: Database.Database) =>
      db.prepare('CREATE TABLE IF NOT EXISTS t (x)').run() && db.exec('INSERT INTO t VALUES (1)');

    it("wakes on another connection's commit, not on its own connection's", async () => {
      const { own, other, wakes } = await watchedStore();
      insertOn(own);
      await settle();
      expect(wakes.count).toBe(1);

      const woken = wakes.next();
      insertOn(other);
      await woken;
      expect(wakes.count).toBe(2);
    });

    it('keeps waking after checkpoints that restart and truncate the WAL', async () => {
      const { other, wakes } = await watchedStore();
      for (const mode of ['RESTART', 'TRUNCATE', 'PASSIVE']) {
        other.pragma(`wal_checkpoint(${mode})`);
        const woken = wakes.next();
        insertOn(other);
        await woken;
      }
      expect(wakes.count).toBeGreaterThanOrEqual(4);
    });
  });

  describe('on a plain file (every change counts as another process)', () => {
    async function watching(file: string) {
      const wakes = wakeCounter();
      const watcher = new SqliteWalWatcher(file, () => true);
      await watcher.subscribe(wakes.onWork);
      cleanups.push(() => watcher.unsubscribe());
      return { wakes, watcher };
    }

    it('follows the file when it is deleted and made again, and when another file is renamed over it', async () => {
      const file = join(dir, 'jobs.db-wal');
      writeFileSync(file, 'a');
      const { wakes } = await watching(file);

      let woken = wakes.next();
      appendFileSync(file, 'b');
      await woken;

      unlinkSync(file);
      await settle();
      writeFileSync(file, 'c');
      await settle();
      woken = wakes.next();
      appendFileSync(file, 'd');
      await woken;

      writeFileSync(join(dir, 'replacement'), 'e');
      renameSync(join(dir, 'replacement'), file);
      await settle();
      woken = wakes.next();
      appendFileSync(file, 'f');
      await woken;
    });

    it('watches the folder until the file exists, then the file', async () => {
      const file = join(dir, 'jobs.db-wal');
      const { wakes } = await watching(file);
      let woken = wakes.next();
      writeFileSync(file, 'a');
      await woken;
      await settle();
      woken = wakes.next();
      appendFileSync(file, 'b');
      await woken;
    });

    it('wakes nothing once unsubscribed', async () => {
      const file = join(dir, 'jobs.db-wal');
      writeFileSync(file, 'a');
      const { wakes, watcher } = await watching(file);
      await watcher.unsubscribe();
      const before = wakes.count;
      appendFileSync(file, 'b');
      await settle();
      expect(wakes.count).toBe(before);
    });
  });
});
