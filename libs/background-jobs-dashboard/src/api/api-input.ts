import { JOB_STATES, JobListQuery, JobSelection } from '@app/background-jobs/admin/background-jobs-admin.types';
import { DashboardError } from '../http/dashboard-error';
import { isJobState } from '../http/request-values';
import { isJobId } from '../job-actions';

/** The most ids one bulk request may name. */
export const MAX_IDS = 1000;

const STATES = JOB_STATES.join(', ');

/** `?state=&jobName=&applicationName=&noApplication=&limit=&after=` as the service's query (noApplication=true: rows with no ApplicationName); 400 on anything it cannot mean. */
export function parseListQuery(query: Record<string, unknown>): JobListQuery {
  for (const [key, value] of Object.entries(query)) {
    if (typeof value !== 'string') throw badRequest(`Give ${key} once, as text.`);
  }
  const { state, jobName, applicationName, noApplication, limit, after } = query as Record<string, string | undefined>;
  if (state === undefined || state === '') throw badRequest(`state is required: one of ${STATES}.`);
  if (!isJobState(state)) throw badRequest(`state "${state}" is not one of ${STATES}.`);
  let pageSize: number | undefined;
  if (limit !== undefined && limit !== '') {
    if (!/^\d{1,4}$/.test(limit) || Number(limit) < 1 || Number(limit) > 500) {
      throw badRequest(`limit "${limit}" is not a whole number from 1 to 500.`);
    }
    pageSize = Number(limit);
  }
  if (noApplication !== undefined && noApplication !== '' && noApplication !== 'true' && noApplication !== '1') {
    throw badRequest(`noApplication "${noApplication}" is not true or 1.`);
  }
  const withoutApplication = noApplication === 'true' || noApplication === '1';
  if (withoutApplication && applicationName) throw badRequest('Give applicationName or noApplication, not both.');
  return {
    state,
    ...(jobName ? { jobName } : {}),
    ...(withoutApplication ? { applicationName: null } : applicationName ? { applicationName } : {}),
    ...(pageSize === undefined ? {} : { limit: pageSize }),
    ...(after ? { after } : {}),
  };
}

/** `{ "ids": [...] }` or `{ "state": "...", "jobName": "..." }` (jobName optional), and nothing else. */
export function parseRequeueBody(body: unknown): { ids: string[] } | JobSelection {
  const form = 'Send {"ids": ["<job id>", ...]} or {"state": "abandoned", "jobName": "<name>"}.';
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest(form);
  const fields = body as Record<string, unknown>;
  const keys = Object.keys(fields).sort().join(',');
  if (keys === 'ids') {
    const ids: unknown = fields.ids;
    if (!Array.isArray(ids) || ids.length === 0) throw badRequest(`ids must be a list of one or more job ids. ${form}`);
    if (ids.length > MAX_IDS) throw badRequest(`ids names ${ids.length} jobs; at most ${MAX_IDS} a request.`);
    const bad = (ids as unknown[]).find((id) => !isJobId(id));
    if (bad !== undefined) throw badRequest(`${JSON.stringify(bad)} in ids is not a job id (a Guid).`);
    return { ids: ids as string[] };
  }
  if (keys === 'state' || keys === 'jobName,state') {
    const { state, jobName } = fields;
    if (!isJobState(state)) throw badRequest(`state ${JSON.stringify(state)} is not one of ${STATES}.`);
    if (jobName !== undefined && (typeof jobName !== 'string' || jobName === '')) {
      throw badRequest('jobName must be a non-empty text when given.');
    }
    return jobName === undefined ? { state } : { state, jobName };
  }
  throw badRequest(form);
}

function badRequest(message: string): DashboardError {
  return new DashboardError(400, message);
}
