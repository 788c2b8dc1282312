export * from './background-jobs-dashboard.module';
export * from './dashboard.options';
export { DashboardErrorResponder } from './http/dashboard-error-responder';
export { isLocalRequest, clientAddress } from './access/client-address';
