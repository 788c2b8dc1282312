export const BACKGROUND_JOB_METADATA = 'abp:background-job';
export const BACKGROUND_JOB_NAME_METADATA = 'abp:background-job-name';
/** ABP's `BackgroundJobRecordConsts.MaxJobArgsLength`. */
export const MAX_JOB_ARGS_LENGTH = 1_048_576;
