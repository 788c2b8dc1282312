import type { ActionResult } from '@app/background-jobs/admin/background-jobs-admin.types';
import type { CancelOutcome } from '@app/background-jobs/cancellation/cancel-job';
import { ACTION_LABELS, isJobAction, JobAction } from '../job-actions';
import type { Alert } from './dashboard-renderer';
import { plural } from './formatting';

/** What an action did, in counts: carried to the page it redirects to (Post/Redirect/Get) in its query. */
export interface ActionOutcome {
  action: JobAction;
  done: number;
  held: number;
  missing: number;
  /** On one job's page, not a selection. */
  single: boolean;
}

export function outcomeOf(action: JobAction, result: ActionResult, single: boolean): ActionOutcome {
  return { action, done: result.done.length, held: result.held.length, missing: result.missing.length, single };
}

/** The query that carries an outcome to the next page. */
export function outcomeQuery(outcome: ActionOutcome): Record<string, string> {
  return {
    action: outcome.action,
    done: String(outcome.done),
    held: String(outcome.held),
    missing: String(outcome.missing),
    ...(outcome.single ? { one: '1' } : {}),
  };
}

/** The outcome a page's query carries, or undefined when it carries none (or a broken one). */
export function outcomeFromQuery(query: Record<string, unknown>): ActionOutcome | undefined {
  const count = (value: unknown) => (typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : NaN);
  const [done, held, missing] = [count(query.done), count(query.held), count(query.missing)];
  if (!isJobAction(query.action) || [done, held, missing].some(Number.isNaN)) return undefined;
  return { action: query.action, done, held, missing, single: query.one === '1' };
}

/** The messages an outcome shows: what was done, and what was refused and why. */
export function outcomeAlerts(outcome: ActionOutcome): Alert[] {
  const labels = ACTION_LABELS[outcome.action];
  const alerts: Alert[] = [];
  if (outcome.single) {
    if (outcome.done > 0) alerts.push({ type: 'success', text: `The job was ${labels.done}.` });
    if (outcome.held > 0)
      alerts.push({
        type: 'warning',
        text: `Refused: a worker holds this job (it is running it now), so it was not ${labels.done}. Try again when it has finished.`,
      });
    if (outcome.missing > 0)
      alerts.push({
        type: 'warning',
        text: `Not ${labels.done}: the job is gone, or is no longer in a state that allows "${labels.verb}".`,
      });
    return alerts;
  }
  if (outcome.done > 0) alerts.push({ type: 'success', text: `${plural(outcome.done, 'job')} ${labels.done}.` });
  if (outcome.held > 0)
    alerts.push({
      type: 'warning',
      text: `Refused for ${plural(outcome.held, 'job')}: a worker holds ${outcome.held === 1 ? 'it' : 'them'} (running now), so ${outcome.held === 1 ? 'it was' : 'they were'} not ${labels.done}.`,
    });
  if (outcome.missing > 0)
    alerts.push({
      type: 'warning',
      text: `${plural(outcome.missing, 'job')} not ${labels.done}: gone, or no longer in a state that allows "${labels.verb}".`,
    });
  if (alerts.length === 0) alerts.push({ type: 'info', text: `No job matched, so none was ${labels.done}.` });
  return alerts;
}

const CANCEL_ALERTS: Record<string, Alert> = {
  cancelled: {
    type: 'success',
    text: 'The job was cancelled: it will not run, and is abandoned with LastError "cancelled".',
  },
  cancelling: {
    type: 'info',
    text: 'Cancel requested: the worker running the job aborts it within about a second; it then ends abandoned, "cancelled".',
  },
  finished: { type: 'warning', text: 'Not cancelled: the job had finished already (abandoned or succeeded).' },
};

/** The query that carries a cancel's outcome to the job's page. */
export function cancelQuery(outcome: CancelOutcome): Record<string, string> {
  return { cancel: outcome };
}

/** The message for the cancel outcome a page's query carries, if any. */
export function cancelAlerts(query: Record<string, unknown>): Alert[] {
  const alert =
    typeof query.cancel === 'string' && Object.hasOwn(CANCEL_ALERTS, query.cancel)
      ? CANCEL_ALERTS[query.cancel]
      : undefined;
  return alert ? [alert] : [];
}
