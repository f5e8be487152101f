/**
 * The registry's function services: what the function platform's tests over the real stack files
 * deploy. Container services are tested with registries of their own (`tests/fixtures/registries.ts`).
 */
import { isContainerService } from "../../functions/runtime/container";
import type { AnyService } from "../../functions/runtime/service";
import { services } from "../../infra/registry";

export const functionServices: readonly AnyService[] = services.filter((service): service is AnyService => !isContainerService(service));
