import { FSWatcher, statSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { WorkNotifier } from '../background-job-store';

/** While neither the WAL file nor its folder can be watched (e.g. out of inotify watches), try again this often. */
const REARM_RETRY_MS = 1000;
/**
 * After the last event, the data version is looked at again for this long: a commit writes its
 * frames (the event) before it syncs the file and publishes them, which can take milliseconds.
 */
const RECHECK_FOR_MS = 1000;
/** Each recheck comes when the time since the event has grown by this share (and at least 1 ms later). */
const RECHECK_GROWTH = 0.25;

/**
 * Wake-ups for the SQLite store from other processes on the same machine: every commit in WAL
 * mode appends to the `-wal` file, so a watch on that file (inotify on Linux, FSEvents on macOS,
 * ReadDirectoryChangesW on Windows) hears the web app's enqueue as it commits. An event only makes
 * the watcher ask `changedByOthers()` (PRAGMA data_version: a read of shared memory that moves
 * only when another connection committed), so this worker's own claims and deletes wake nothing.
 * A commit is visible only once its frames are synced and published, which can be a while after
 * their write (the event): the question is asked at once and then again at growing intervals for
 * a second.
 *
 * The watch follows the file: a checkpoint that restarts or truncates the WAL is a change of the
 * same file, but when the file is deleted (the last connection closed) or replaced, the watch is
 * made again on the new file, or on its folder until the file exists again. After every re-arm the
 * data version is checked, so a commit in between is not missed. JobPollPeriod's poll stays as the
 * fallback (a network file system, where no event arrives, or a watch that cannot be made).
 */
export class SqliteWalWatcher implements WorkNotifier {
  readonly description = 'wal-file-watch';
  private fileWatcher?: FSWatcher;
  private folderWatcher?: FSWatcher;
  /** The inode the file watch is on: a file put in its place (or its deletion) needs a new watch. */
  private watchedInode?: number;
  private retryTimer?: NodeJS.Timeout;
  private checkTimer?: NodeJS.Timeout;
  private checkQueued = false;
  /** When the last event came (performance.now()): the start of the current series of checks. */
  private lastEventAt = 0;
  private onWork?: () => void;

  constructor(
    private readonly walFile: string,
    /** True when another connection committed since the last call. */
    private readonly changedByOthers: () => boolean,
  ) {}

  async subscribe(onWork: () => void): Promise<void> {
    this.onWork = onWork;
    this.changedByOthers(); // the baseline: what is committed now, the first claim reads
    this.arm();
    onWork(); // anything committed before the watch was made
  }

  async unsubscribe(): Promise<void> {
    this.onWork = undefined;
    this.disarm();
    clearTimeout(this.checkTimer);
    this.checkTimer = undefined;
  }

  private arm(): void {
    this.disarm();
    if (!this.onWork) return;
    try {
      this.watchedInode = inodeOf(this.walFile);
      if (this.watchedInode !== undefined) {
        this.fileWatcher = watch(this.walFile, { persistent: false }, (event) =>
          event === 'rename' ? this.rearm() : this.startChecks(),
        );
        this.fileWatcher.on('error', () => this.rearm());
      } else {
        const name = basename(this.walFile);
        this.folderWatcher = watch(dirname(this.walFile), { persistent: false }, (_event, file) => {
          if (file === null || file.toString() === name) this.rearm();
        });
        this.folderWatcher.on('error', () => this.retryLater());
        // Created between the check above and the folder's watch: no event would come for it.
        if (inodeOf(this.walFile) !== undefined) this.rearm();
      }
    } catch {
      this.retryLater();
    }
  }

  /** The file was deleted, replaced or could not be read: watch whatever is at its path now. */
  private rearm(): void {
    if (!this.onWork) return;
    this.arm();
    this.startChecks();
  }

  private retryLater(): void {
    this.disarm();
    if (!this.onWork) return;
    this.retryTimer = setTimeout(() => this.rearm(), REARM_RETRY_MS);
    this.retryTimer.unref();
  }

  /**
   * A new series of checks: one at the next turn of the event loop (one per burst of events), then
   * rechecks, so a commit is seen within a quarter of the time it took to publish (and 1 ms).
   */
  private startChecks(): void {
    this.lastEventAt = performance.now();
    clearTimeout(this.checkTimer);
    this.checkTimer = undefined;
    if (this.checkQueued) return;
    this.checkQueued = true;
    setImmediate(() => {
      this.checkQueued = false;
      this.check();
    });
  }

  private check(): void {
    this.checkTimer = undefined;
    const onWork = this.onWork;
    if (!onWork) return;
    // Unlinked or replaced while a connection keeps the old file open: only a 'change' came.
    if (this.fileWatcher && inodeOf(this.walFile) !== this.watchedInode) this.arm();
    let changed: boolean;
    try {
      changed = this.changedByOthers();
    } catch {
      changed = true; // the claim will say what is wrong with the database
    }
    if (changed) onWork();
    const sinceEvent = performance.now() - this.lastEventAt;
    if (sinceEvent >= RECHECK_FOR_MS || this.checkQueued) return;
    this.checkTimer = setTimeout(() => this.check(), Math.max(1, sinceEvent * RECHECK_GROWTH));
    this.checkTimer.unref();
  }

  private disarm(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.fileWatcher?.close();
    this.folderWatcher?.close();
    this.fileWatcher = undefined;
    this.folderWatcher = undefined;
  }
}

function inodeOf(file: string): number | undefined {
  try {
    return statSync(file).ino;
  } catch {
    return undefined;
  }
}
