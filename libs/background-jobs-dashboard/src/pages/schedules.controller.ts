import { Controller, Get, Inject, Param, Post, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { RecurringJobs } from '@app/background-jobs/schedules/recurring-jobs.service';
import { actorOf, DashboardAccessGuard } from '../access/dashboard-access.guard';
import type { ResolvedDashboardOptions } from '../dashboard.options';
import { DASHBOARD_OPTIONS } from '../dashboard.tokens';
import { DashboardError } from '../http/dashboard-error';
import { DashboardExceptionFilter } from '../http/dashboard-exception.filter';
import { isScheduleAction, performOnSchedule } from '../schedule-actions';
import { DashboardRenderer } from '../view/dashboard-renderer';
import { DashboardLinks } from '../view/page-models';
import { scheduleOutcomeAlerts, scheduleOutcomeQuery, schedulesModel } from '../view/schedules-model';

/**
 * The Schedules page (recurring jobs: cron, zone, job, next and last run, paused) and its pause,
 * resume and trigger forms, a thin front on the RecurringJobs service. The guard has checked
 * access, read-only and the origin; the host's CSRF middleware checks the forms' token.
 */
@Controller('schedules')
@UseGuards(DashboardAccessGuard)
@UseFilters(DashboardExceptionFilter)
export class SchedulesController {
  private readonly links: DashboardLinks;

  constructor(
    private readonly schedules: RecurringJobs,
    private readonly renderer: DashboardRenderer,
    @Inject(DASHBOARD_OPTIONS) private readonly options: ResolvedDashboardOptions,
  ) {
    this.links = new DashboardLinks(options.path);
  }

  @Get()
  async page(@Req() req: Request, @Res() res: Response): Promise<void> {
    const model = schedulesModel(await this.schedules.list(), this.links, new Date(), this.options.readOnly);
    this.renderer.render(req, res, 'schedules', { ...model, alerts: scheduleOutcomeAlerts(req.query) });
  }

  /** Pause, resume or trigger; back to the Schedules page, which says what was done (404 for an unknown name). */
  @Post(':name/:action')
  async act(
    @Param('name') name: string,
    @Param('action') action: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    if (!isScheduleAction(action)) throw new DashboardError(404, 'There is no such page.');
    const result = await performOnSchedule(this.schedules, action, name, actorOf(req));
    const query = new URLSearchParams(scheduleOutcomeQuery(action, name, result.jobId)).toString();
    res.redirect(303, `${this.links.schedules()}?${query}`);
  }
}
