import { Controller, Get, Header, HttpCode, Param, Post, Req, UseFilters, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import { RecurringJobs, ScheduleView } from '@app/background-jobs/schedules/recurring-jobs.service';
import { actorOf, DashboardAccessGuard, DashboardApi } from '../access/dashboard-access.guard';
import { DashboardError } from '../http/dashboard-error';
import { DashboardExceptionFilter } from '../http/dashboard-exception.filter';
import { isScheduleAction, performOnSchedule, ScheduleActionResult } from '../schedule-actions';

/**
 * Recurring jobs in the JSON API, a thin front on the RecurringJobs service: the list, and pause,
 * resume and trigger by name. The same rules as the other writes (the guard: not read-only, not
 * from another site, `Content-Type: application/json`); 404 `{ "message" }` for an unknown name.
 */
@Controller('api/schedules')
@DashboardApi()
@UseGuards(DashboardAccessGuard)
@UseFilters(DashboardExceptionFilter)
export class SchedulesApiController {
  constructor(private readonly schedules: RecurringJobs) {}

  /** This application's schedules by name, as `npm run jobs -- schedule list --json` prints them. */
  @Get()
  @Header('Cache-Control', 'no-store')
  list(): Promise<ScheduleView[]> {
    return this.schedules.list();
  }

  /** `{ "name", "action" }`, and `"jobId"` of the job a trigger enqueued. */
  @Post(':name/:action')
  @HttpCode(200)
  act(
    @Param('name') name: string,
    @Param('action') action: string,
    @Req() req: Request,
  ): Promise<ScheduleActionResult> {
    if (!isScheduleAction(action)) throw new DashboardError(404, 'There is no such action: pause, resume or trigger.');
    return performOnSchedule(this.schedules, action, name, actorOf(req));
  }
}
