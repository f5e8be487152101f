/**
 * The service registry: every service the platform deploys and serves locally. To add a service,
 * write `functions/<name>/service.ts` with `defineService(...)` and list it here.
 */
import auth from "../functions/auth/service";
import users from "../functions/users/service";
import type { AnyService } from "../functions/runtime/service";

export const services: readonly AnyService[] = [auth, users];
