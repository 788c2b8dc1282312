import { Module } from '@nestjs/common';
import { MyReportJob } from './my-report.job';

/** ABP's `SeparateBackgroundJobCommonSharedModule`: the jobs both apps know. */
@Module({ providers: [MyReportJob], exports: [MyReportJob] })
export class CommonSharedModule {}
