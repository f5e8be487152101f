/**
 * The service registry: every service the platform deploys and serves locally. To add a service,
 * write `functions/<name>/service.ts` with `defineService(...)` (or `defineContainerService(...)`
 * for a long-lived process) and list it here.
 */
import auth from "../functions/auth/service";
import reports from "../functions/reports/service";
import notifications from "../functions/notifications/service";
import users from "../functions/users/service";
import type { RegisteredService } from "../functions/runtime/container";

export const services: readonly RegisteredService[] = [auth, users, notifications, reports];
