import { BadRequestException, Body, Controller, Get, Inject, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { IBackgroundJobManager } from '@app/background-jobs';
import { MyReportJobArgs } from '@app/common-shared';
import { setFlash, takeFlash } from './flash';
import { renderIndex } from './render-index';
import { firstValue, jobIdOf, submissionIdOf } from './submission-id';

/** The seed's Index page: a form that enqueues MyReportJob (ABP's IndexModel). */
@Controller()
export class IndexController {
  constructor(@Inject(IBackgroundJobManager) private readonly backgroundJobManager: IBackgroundJobManager) {}

  @Get()
  get(@Req() req: Request, @Res() res: Response): void {
    renderIndex(req, res, { alerts: takeFlash(req, res) });
  }

  @Post()
  async post(@Body() body: Record<string, unknown>, @Res() res: Response): Promise<void> {
    const content = firstValue(body?.ReportContent) ?? '';
    if (content.trim() === '') throw new BadRequestException('Enter some text for the report.');
    const submissionId = submissionIdOf(body);
    const args = Object.assign(new MyReportJobArgs(), { content });
    // A repeated post of this form (after an answer that was lost or said 503) finds its first job.
    await this.backgroundJobManager.enqueue(
      args,
      submissionId === undefined ? {} : { id: jobIdOf(submissionId, content) },
    );
    setFlash(res, { type: 'success', text: 'Job is queued!' });
    res.redirect(303, '/');
  }
}
