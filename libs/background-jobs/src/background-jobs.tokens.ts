/** The module's options after defaults and checks (ResolvedBackgroundJobsOptions). */
export const BACKGROUND_JOBS_OPTIONS = Symbol('BackgroundJobsOptions');
