import { Body, Controller, Inject, Param, Post, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { BackgroundJobsAdmin, JobState } from '@app/background-jobs/admin/background-jobs-admin.types';
import { IBackgroundJobManager } from '@app/background-jobs/background-job-manager';
import { actorOf, DashboardAccessGuard } from '../access/dashboard-access.guard';
import type { ResolvedDashboardOptions } from '../dashboard.options';
import { DASHBOARD_OPTIONS } from '../dashboard.tokens';
import { DashboardError } from '../http/dashboard-error';
import { DashboardExceptionFilter } from '../http/dashboard-exception.filter';
import { isJobState, textValue, textValues } from '../http/request-values';
import {
  ACTION_LABELS,
  ACTIONS_BY_STATE,
  isJobAction,
  isJobId,
  JobAction,
  performCancel,
  performOnIds,
  performOnSelection,
  SELECTION_ACTIONS,
} from '../job-actions';
import { ActionOutcome, cancelQuery, outcomeOf, outcomeQuery } from '../view/action-messages';
import { DashboardLinks } from '../view/page-models';
import { noSuchJob } from './dashboard-pages.controller';

type FormBody = Record<string, unknown> | undefined;

/**
 * The pages' HTML forms: requeue, run now, delete and cancel, for one job, a selection, or every row of a
 * state and job name. Each answers with a redirect (Post/Redirect/Get) to a page that shows what
 * was done and what was refused, and why. The guard has checked access, read-only and the origin;
 * the host's CSRF middleware checks the form's token.
 */
@Controller()
@UseGuards(DashboardAccessGuard)
@UseFilters(DashboardExceptionFilter)
export class DashboardActionsController {
  private readonly links: DashboardLinks;

  constructor(
    private readonly admin: BackgroundJobsAdmin,
    @Inject(IBackgroundJobManager) private readonly jobs: IBackgroundJobManager,
    @Inject(DASHBOARD_OPTIONS) options: ResolvedDashboardOptions,
  ) {
    this.links = new DashboardLinks(options.path);
  }

  /**
   * Cancel (IBackgroundJobManager.cancel, as the user the guard let in): a waiting, scheduled or
   * retrying job is abandoned at once; a running one is aborted by its worker. Back to the job's
   * page, which says which; 404 for an unknown job.
   */
  @Post('jobs/:id/cancel')
  async cancel(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    if (!isJobId(id)) throw new DashboardError(404, noSuchJob(id));
    const outcome = await performCancel(this.jobs, id, actorOf(req));
    if (outcome === 'not-found') throw new DashboardError(404, noSuchJob(id));
    res.redirect(303, `${this.links.job(id)}?${new URLSearchParams(cancelQuery(outcome)).toString()}`);
  }

  @Post('jobs/:id/:action')
  async one(
    @Param('id') id: string,
    @Param('action') action: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    if (!isJobAction(action)) throw new DashboardError(404, 'There is no such page.');
    if (!isJobId(id)) throw new DashboardError(404, noSuchJob(id));
    const before = await this.admin.get(id);
    if (!before) throw new DashboardError(404, noSuchJob(id));
    const outcome = outcomeOf(action, await performOnIds(this.admin, action, [id], actorOf(req)), true);
    // A deleted job has no page left: back to the list it was on.
    const page = action === 'delete' && outcome.done > 0 ? this.links.state(before.state) : this.links.job(id);
    redirectWith(res, page, outcome);
  }

  @Post('actions')
  async selection(@Body() body: FormBody, @Req() req: Request, @Res() res: Response): Promise<void> {
    const state = stateOf(body);
    const action = actionOf(body, ACTIONS_BY_STATE[state]);
    const ids = textValues(body?.ids);
    if (ids.length === 0) throw new DashboardError(400, 'Select one or more jobs first, then choose an action.');
    if (!ids.every(isJobId)) throw new DashboardError(400, 'The selection holds something that is not a job id.');
    const outcome = outcomeOf(action, await performOnIds(this.admin, action, ids, actorOf(req)), false);
    redirectWith(res, this.links.state(state), outcome);
  }

  /** "All abandoned of job name X" (or another state the service accepts). */
  @Post('actions/all')
  async all(@Body() body: FormBody, @Req() req: Request, @Res() res: Response): Promise<void> {
    const state = stateOf(body);
    const action = actionOf(body, SELECTION_ACTIONS) as Exclude<JobAction, 'run-now'>;
    const jobName = textValue(body?.jobName);
    if (jobName === undefined) throw new DashboardError(400, 'Name the job whose rows the action is for.');
    if (action === 'delete' && body?.confirm !== 'yes') {
      throw new DashboardError(
        400,
        `Tick "I mean it" to delete every ${state} job named ${jobName}. Nothing was deleted.`,
      );
    }
    const result = await performOnSelection(this.admin, action, { state, jobName }, actorOf(req));
    redirectWith(res, this.links.state(state, { jobName }), outcomeOf(action, result, false));
  }
}

function stateOf(body: FormBody): JobState {
  const state = body?.state;
  if (!isJobState(state)) throw new DashboardError(400, 'The form names no job state; reload the page and try again.');
  return state;
}

function actionOf(body: FormBody, allowed: readonly JobAction[]): JobAction {
  const action = body?.action;
  if (!isJobAction(action)) throw new DashboardError(400, 'The form names no action; reload the page and try again.');
  if (!allowed.includes(action)) {
    throw new DashboardError(400, `"${ACTION_LABELS[action].button}" does not apply here; nothing was changed.`);
  }
  return action;
}

function redirectWith(res: Response, page: string, outcome: ActionOutcome): void {
  const query = new URLSearchParams(outcomeQuery(outcome)).toString();
  res.redirect(303, `${page}${page.includes('?') ? '&' : '?'}${query}`);
}
