import { Logger } from '@nestjs/common';
import type { BackgroundJobRecord, UnrunJobNames } from '@app/background-jobs';
import { WorkerHeartbeat } from '@app/background-jobs/worker/worker-heartbeat';
import { jobRecord } from '../support/job-records';
import { openStore } from '../support/open-store';
import { waitFor } from '../support/wait-for';
import { appsOnFreshDatabase } from './support/apps-on-database';
import { cliOnFreshDatabase } from './support/cli-on-database';
import { e2eCases, skipUnavailable } from './support/e2e-backends';

jest.setTimeout(60_000);

const MINUTE = 60_000;
const KNOWN = 'MyReportJobArgs';

/** A worker of no application that runs KNOWN, as its heartbeat says (every second once started). */
const liveWorkerOf = (store: ConstructorParameters<typeof WorkerHeartbeat>[0]) =>
  new WorkerHeartbeat(
    store,
    { applicationName: null, jobNames: [KNOWN], maxParallel: 4 },
    () => 0,
    new Logger('test-worker'),
    1000,
  );

/**
 * Due rows of ApplicationName NULL and of 'OtherApp': the known name (which the live worker of
 * no application runs), its trailing-space typo, and rows a claim would not take now.
 */
function seedRows(): BackgroundJobRecord[] {
  const due = (jobName: string, fields: Partial<BackgroundJobRecord> = {}) =>
    jobRecord({
      jobName,
      creationTime: new Date(Date.now() - 2 * MINUTE),
      nextTryTime: new Date(Date.now() - MINUTE),
      ...fields,
    });
  return [
    due(KNOWN),
    due(KNOWN),
    due(KNOWN),
    due(`${KNOWN} `),
    due(`${KNOWN} `),
    due(KNOWN, { applicationName: 'OtherApp' }),
    due('Old', { nextTryTime: new Date(Date.now() + 60 * MINUTE) }),
    due('Old', { isAbandoned: true }),
  ];
}

/** What the group holds once the worker of no application that runs KNOWN is live. */
const EXPECTED: UnrunJobNames = {
  liveWorkers: 1,
  jobNamesNoWorkerRuns: [
    { applicationName: null, jobName: `${KNOWN} `, count: 2 },
    { applicationName: 'OtherApp', jobName: KNOWN, count: 1 },
  ],
};

/** The cells of each row of the overview's group, as the browser shows them. */
function groupRows(html: string): string[][] {
  const group = /id="bj-unrun-job-names">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? '';
  const body = /<tbody>([\s\S]*)<\/tbody>/.exec(group)?.[1] ?? '';
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map(([, row]) =>
    [...row.matchAll(/<t[dh][^>]*>([\s\S]*?)<\/t[dh]>/g)].map(([, cell]) =>
      cell
        .replace(/<a href="([^"]*)">([^<]*)<\/a>/, '$2 $1')
        .replace(/&quot;/g, '"')
        .replace(/&#x3D;/g, '=')
        .replace(/&amp;/g, '&'),
    ),
  );
}

/**
 * #11 point 6 on the built web app: due rows whose job name no live worker of their application
 * runs (a trailing-space typo, a known name of an application no worker serves) show on the
 * overview as a group of their own and in GET /jobs/api/unrun-job-names; names the live worker
 * runs do not. While no worker has a recent heartbeat, the page says so instead.
 */
describe.each(e2eCases)('due rows no live worker runs, on the dashboard on %s', (_label, backend) => {
  if (skipUnavailable(backend)) return;
  const apps = appsOnFreshDatabase(backend);

  beforeAll(async () => {
    const { store, close } = await openStore(apps.db.connectionString);
    try {
      await store.insert(seedRows());
    } finally {
      await close();
    }
  });

  const unrun = async () => {
    const response = await fetch(`${apps.web.baseUrl}/jobs/api/unrun-job-names`, {
      headers: { accept: 'application/json' },
    });
    expect(response.status).toBe(200);
    return (await response.json()) as UnrunJobNames;
  };
  const overview = async () => (await fetch(`${apps.web.baseUrl}/jobs`)).text();

  it('says no worker has reported while none is live, then lists the names the live worker does not run', async () => {
    expect(await unrun()).toEqual({ liveWorkers: 0, jobNamesNoWorkerRuns: [] });
    expect(await overview()).toContain('No worker has reported in the last 16 s.');

    const { store, close } = await openStore(apps.db.connectionString);
    const heartbeat = liveWorkerOf(store);
    try {
      heartbeat.start();
      await waitFor('the heartbeat to count', async () => (await unrun()).liveWorkers === 1);
      expect(await unrun()).toEqual(EXPECTED);

      const page = await overview();
      expect(page).not.toContain('No worker has reported');
      expect(page).toContain('Due rows no live worker runs');
      const rows = groupRows(page);
      expect(rows).toEqual([
        ['(none)', `"${KNOWN} "`, `2 /jobs/states/waiting?jobName=${KNOWN}+&noApplication=1`],
        ['"OtherApp"', `"${KNOWN}"`, `1 /jobs/states/waiting?jobName=${KNOWN}&applicationName=OtherApp`],
      ]);
      // The link lists just the typo's rows.
      const waiting = await (await fetch(`${apps.web.baseUrl}${rows[0][2].split(' ')[1]}`)).text();
      expect(waiting.match(/name="ids"/g)).toHaveLength(2);
    } finally {
      await heartbeat.stop();
      await close();
    }
  });
});

describe.each(e2eCases)('due rows no live worker runs, in `jobs stats` on %s', (_label, backend) => {
  if (skipUnavailable(backend)) return;
  const suite = cliOnFreshDatabase(backend);

  it('prints them after the counts, names quoted, and as JSON beside the counts', async () => {
    await suite.store.insert(seedRows());
    const silent = await suite.jobs('stats');
    expect(silent.stdout).toContain('No worker has reported in the last 16 s.');

    const heartbeat = liveWorkerOf(suite.store);
    try {
      heartbeat.start();
      await waitFor('the first beat', async () => (await suite.store.heartbeats.live(new Date(0))).length === 1);
      const table = await suite.jobs('stats');
      expect(table.code).toBe(0);
      expect(table.stdout).toMatch(
        /\n\nDue rows no live worker runs:\napplication\s+job name\s+due rows\n\(none\)\s+"MyReportJobArgs "\s+2\n"OtherApp"\s+"MyReportJobArgs"\s+1$/,
      );
      const json = JSON.parse((await suite.jobs('stats', '--json')).stdout) as Record<string, unknown>;
      expect(json).toMatchObject({ waiting: 6, ...EXPECTED });
    } finally {
      await heartbeat.stop();
    }
  });
});
