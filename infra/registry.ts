/**
 * The service registry: every service the platform deploys and serves locally, one line each. To
 * add a service, write `functions/<name>/service.ts` (`export default defineService({...})`, or
 * `defineContainerService({...})` for a long-lived process) and add its line here; to remove one,
 * delete its line. Nothing else in the platform lists services.
 */
export { default as auth } from "../functions/auth/service";
export { default as users } from "../functions/users/service";
export { default as notifications } from "../functions/notifications/service";
export { default as reports } from "../functions/reports/service";
