import { Injectable } from '@nestjs/common';
import { AsyncBackgroundJob, BackgroundJob } from '@app/background-jobs';
import { MyReportJobArgs } from './my-report-job.args';

/** The seed's `MyReportJob`: logs its content, one line per execution. */
@Injectable()
@BackgroundJob(MyReportJobArgs)
export class MyReportJob extends AsyncBackgroundJob<MyReportJobArgs> {
  async execute(args: MyReportJobArgs): Promise<void> {
    this.logger.log(`Executing MyReportJob with args: ${args.content}`);
  }
}
