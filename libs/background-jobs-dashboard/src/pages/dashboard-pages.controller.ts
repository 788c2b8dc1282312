import { Controller, Get, Inject, Param, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { BackgroundJobsAdmin } from '@app/background-jobs/admin/background-jobs-admin.types';
import { DashboardAccessGuard } from '../access/dashboard-access.guard';
import type { ResolvedDashboardOptions } from '../dashboard.options';
import { DASHBOARD_OPTIONS } from '../dashboard.tokens';
import { DashboardError } from '../http/dashboard-error';
import { DashboardExceptionFilter } from '../http/dashboard-exception.filter';
import { isJobState, textValue } from '../http/request-values';
import { isJobId } from '../job-actions';
import { cancelAlerts, outcomeAlerts, outcomeFromQuery } from '../view/action-messages';
import { DashboardRenderer } from '../view/dashboard-renderer';
import {
  applicationFilter,
  DashboardLinks,
  deferredUnrunJobNamesModel,
  jobModel,
  ListFilters,
  listModel,
  overviewModel,
  PAGE_SIZE,
  unrunJobNamesModel,
  workersModel,
} from '../view/page-models';

/** The dashboard's pages: overview, a list per state, a job, the workers. All read-only; the forms post to the actions controller. */
@Controller()
@UseGuards(DashboardAccessGuard)
@UseFilters(DashboardExceptionFilter)
export class DashboardPagesController {
  private readonly links: DashboardLinks;

  constructor(
    private readonly admin: BackgroundJobsAdmin,
    private readonly renderer: DashboardRenderer,
    @Inject(DASHBOARD_OPTIONS) private readonly options: ResolvedDashboardOptions,
  ) {
    this.links = new DashboardLinks(options.path);
  }

  @Get()
  async overview(@Req() req: Request, @Res() res: Response): Promise<void> {
    const [stats, history] = await Promise.all([this.admin.stats(), this.admin.history()]);
    // Counting the due rows per name scans every due row: on a table big enough for estimated
    // counts that would pass the overview's time, so the workers page counts them instead.
    const unrun = stats.estimated
      ? deferredUnrunJobNamesModel(this.links)
      : unrunJobNamesModel(await this.admin.unrunJobNames(), this.links);
    this.renderer.render(req, res, 'overview', {
      ...overviewModel(stats, history, this.links),
      unrun,
      alerts: alertsOf(req),
    });
  }

  @Get('states/:state')
  async list(@Param('state') state: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    if (!isJobState(state)) throw new DashboardError(404, 'There is no such list.');
    const filters: ListFilters = {
      jobName: textValue(req.query.jobName),
      applicationName: textValue(req.query.applicationName),
      noApplication: textValue(req.query.noApplication) === '1',
    };
    const after = textValue(req.query.after);
    const applicationName = applicationFilter(filters);
    const page = await this.admin.list({
      state,
      jobName: filters.jobName,
      ...(applicationName === undefined ? {} : { applicationName }),
      limit: PAGE_SIZE,
      after,
    });
    this.renderer.render(req, res, 'list', {
      ...listModel(state, page, filters, after, this.links, new Date(), this.options.readOnly),
      alerts: alertsOf(req),
    });
  }

  /** Find by id: the job's page, from a GET form that works without script. */
  @Get('find')
  find(@Query('id') id: unknown, @Res() res: Response): void {
    const wanted = typeof id === 'string' ? id.trim() : '';
    if (!isJobId(wanted)) throw new DashboardError(404, `There is no job "${wanted}": a job id is a Guid.`);
    res.redirect(303, this.links.job(wanted));
  }

  @Get('jobs/:id')
  async job(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const job = isJobId(id) ? await this.admin.get(id) : undefined;
    if (!job) throw new DashboardError(404, noSuchJob(id));
    this.renderer.render(req, res, 'job', {
      ...jobModel(job, this.links, new Date(), this.options.readOnly),
      alerts: alertsOf(req),
    });
  }

  /** The whole JobArgs value (up to ABP's 1,048,576 characters), which the job's page shows cut. */
  @Get('jobs/:id/args')
  async args(@Param('id') id: string, @Res() res: Response): Promise<void> {
    const job = isJobId(id) ? await this.admin.get(id) : undefined;
    if (!job) throw new DashboardError(404, noSuchJob(id));
    res.set({
      'Content-Disposition': `attachment; filename="job-${job.id}-args.json"`,
      'Cache-Control': 'no-store',
    });
    res.type('application/json; charset=utf-8').send(job.jobArgs);
  }

  @Get('workers')
  async workers(@Req() req: Request, @Res() res: Response): Promise<void> {
    const [workers, unrun] = await Promise.all([this.admin.workers(), this.admin.unrunJobNames()]);
    this.renderer.render(req, res, 'workers', {
      ...workersModel(workers, new Date()),
      unrun: unrunJobNamesModel(unrun, this.links),
    });
  }
}

export function noSuchJob(id: string): string {
  return `There is no job ${id}. It may have run already: a job's row is deleted once it has succeeded.`;
}

/** What the action that redirected here did (its counts ride in the query). */
function alertsOf(req: Request) {
  const outcome = outcomeFromQuery(req.query);
  return [...(outcome ? outcomeAlerts(outcome) : []), ...cancelAlerts(req.query)];
}
