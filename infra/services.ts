/**
 * The registry (`infra/registry.ts`) as the list of services the program, the plan and the tests
 * take, in the order it lists them.
 */
import type { RegisteredService } from "../functions/runtime/container";
import * as registry from "./registry";
import { servicesOf } from "../platform/registry/resolution";

export const services: readonly RegisteredService[] = servicesOf(registry);
