/** The resolved options (ResolvedDashboardOptions) of the dashboard module. */
export const DASHBOARD_OPTIONS = Symbol('BACKGROUND_JOBS_DASHBOARD_OPTIONS');
