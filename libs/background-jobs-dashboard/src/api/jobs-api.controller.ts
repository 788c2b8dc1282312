import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import {
  ActionResult,
  BackgroundJobsAdmin,
  JOB_STATES,
  JobListPage,
  JobView,
  StateCounts,
  UnrunJobNames,
} from '@app/background-jobs/admin/background-jobs-admin.types';
import { IBackgroundJobManager } from '@app/background-jobs/background-job-manager';
import type { CancelOutcome } from '@app/background-jobs/cancellation/cancel-job';
import { actorOf, DashboardAccessGuard, DashboardApi } from '../access/dashboard-access.guard';
import { DashboardError } from '../http/dashboard-error';
import { DashboardExceptionFilter } from '../http/dashboard-exception.filter';
import { ACTION_LABELS, isJobId, JobAction, performCancel, performOnIds } from '../job-actions';
import { STATE_LABELS } from '../view/state-labels';
import { parseListQuery, parseRequeueBody } from './api-input';

export interface StatsBody extends StateCounts {
  byJobName: Record<string, StateCounts>;
}

/** What POST /api/jobs/:id/cancel did: 'cancelled' (it was waiting) or 'cancelling' (its worker aborts it). */
export interface CancelBody {
  id: string;
  outcome: Extract<CancelOutcome, 'cancelled' | 'cancelling'>;
}

/**
 * The JSON API, for scripts and checks: the paths and keys exactly. Errors are
 * `{ "message" }`: 404 for an unknown id, 409 for a row a worker holds (or one whose state the
 * action does not fit), 400 for bad input. Writes pass the guard's checks: not read-only, not
 * from another site, `Content-Type: application/json`.
 */
@Controller('api')
@DashboardApi()
@UseGuards(DashboardAccessGuard)
@UseFilters(DashboardExceptionFilter)
export class JobsApiController {
  constructor(
    private readonly admin: BackgroundJobsAdmin,
    @Inject(IBackgroundJobManager) private readonly jobs: IBackgroundJobManager,
  ) {}

  /** The counts; `X-Counts-Estimated: true` when some are the database's estimates (the body keeps the keys). */
  @Get('stats')
  @Header('Cache-Control', 'no-store')
  async stats(@Res({ passthrough: true }) res: Response): Promise<StatsBody> {
    const stats = await this.admin.stats();
    res.set('X-Counts-Estimated', String(stats.estimated));
    const byJobName: Record<string, StateCounts> = {};
    for (const [name, counts] of Object.entries(stats.byJobName)) byJobName[name] = countsOf(counts);
    return { ...countsOf(stats), byJobName };
  }

  /**
   * Due rows whose job name no live worker of their application runs, per application and exact
   * job name, most first: `{ liveWorkers, jobNamesNoWorkerRuns: [{ applicationName, jobName, count }] }`.
   * Apart from /stats, which the overview polls: this one groups every due row.
   */
  @Get('unrun-job-names')
  @Header('Cache-Control', 'no-store')
  unrunJobNames(): Promise<UnrunJobNames> {
    return this.admin.unrunJobNames();
  }

  @Get('jobs')
  @Header('Cache-Control', 'no-store')
  list(@Query() query: Record<string, unknown>): Promise<JobListPage> {
    return this.admin.list(parseListQuery(query));
  }

  @Get('jobs/:id')
  @Header('Cache-Control', 'no-store')
  async get(@Param('id') id: string): Promise<JobView> {
    const job = isJobId(id) ? await this.admin.get(id) : undefined;
    if (!job) throw new DashboardError(404, `There is no job ${id}.`);
    return job;
  }

  @Post('jobs/:id/requeue')
  @HttpCode(200)
  requeue(@Param('id') id: string, @Req() req: Request): Promise<ActionResult> {
    return this.one('requeue', id, req);
  }

  @Post('jobs/:id/run-now')
  @HttpCode(200)
  runNow(@Param('id') id: string, @Req() req: Request): Promise<ActionResult> {
    return this.one('run-now', id, req);
  }

  /**
   * Cancels a job (IBackgroundJobManager.cancel), as the caller the guard let in: 200 with the
   * outcome, 404 for an unknown id, 409 for a job that has finished already.
   */
  @Post('jobs/:id/cancel')
  @HttpCode(200)
  async cancel(@Param('id') id: string, @Req() req: Request): Promise<CancelBody> {
    if (!isJobId(id)) throw new DashboardError(404, `There is no job ${id}.`);
    const outcome = await performCancel(this.jobs, id, actorOf(req));
    if (outcome === 'not-found') throw new DashboardError(404, `There is no job ${id}.`);
    if (outcome === 'finished')
      throw new DashboardError(409, `Job ${id} has finished (abandoned or succeeded); nothing was changed.`);
    return { id: id.toLowerCase(), outcome };
  }

  @Delete('jobs/:id')
  delete(@Param('id') id: string, @Req() req: Request): Promise<ActionResult> {
    return this.one('delete', id, req);
  }

  /** `{ "ids": [...] }` or `{ "state": "abandoned", "jobName": "..." }`: what was done, held and missing, per id. */
  @Post('requeue')
  @HttpCode(200)
  requeueMany(@Body() body: unknown, @Req() req: Request): Promise<ActionResult> {
    const input = parseRequeueBody(body);
    return 'ids' in input ? this.admin.requeue(input.ids, actorOf(req)) : this.admin.requeueWhere(input, actorOf(req));
  }

  /** One job: 200 with the result when done, else 404 (no such job) or 409 (held, or a state the action does not fit). */
  private async one(action: JobAction, id: string, req: Request): Promise<ActionResult> {
    if (!isJobId(id)) throw new DashboardError(404, `There is no job ${id}.`);
    const result = await performOnIds(this.admin, action, [id], actorOf(req));
    if (result.done.length > 0) return result;
    const verb = ACTION_LABELS[action].verb;
    if (result.held.length > 0) {
      throw new DashboardError(
        409,
        `Job ${id} is held by a worker (it is running now); nothing was changed. Try again when it has finished.`,
      );
    }
    const job = await this.admin.get(id);
    if (!job) throw new DashboardError(404, `There is no job ${id}.`);
    throw new DashboardError(
      409,
      `Job ${id} is ${job.state}: "${verb}" does not apply to ${STATE_LABELS[job.state].label.toLowerCase()} jobs; nothing was changed.`,
    );
  }
}

/** Per-state counts with the keys, in its order, and nothing else. */
function countsOf(counts: StateCounts): StateCounts {
  const picked = {} as Record<string, number | null>;
  for (const state of JOB_STATES) picked[state] = counts[state];
  return picked as unknown as StateCounts;
}
