export * from './common-shared.module';
export * from './my-report.job';
export * from './my-report-job.args';
