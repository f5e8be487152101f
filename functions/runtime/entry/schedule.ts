/** A schedule's handler, as its queue's event source mapping invokes it. */
import { createScheduleHandler, type QueueHandler } from "../queue/consumer";
import type { ScheduleHandler } from "../service";
import { entryLogger, serviceResources, type ResourcesProvider, type ServiceUse } from "./resources";

/** What the entry takes of a resolved schedule: only this is captured in its archive. */
export interface ScheduleEntry extends ServiceUse {
    handler: ScheduleHandler;
    /** The schedule's name in its service. */
    name: string;
}

export function scheduleEntry(schedule: ScheduleEntry): ScheduleEntry {
    const { handler, service, name, events } = schedule;
    return { handler, service, name, events };
}

export function createScheduleEntry(schedule: ScheduleEntry, provider: ResourcesProvider): QueueHandler {
    return createScheduleHandler(schedule.handler, {
        service: schedule.service,
        schedule: schedule.name,
        logger: entryLogger(provider, { service: schedule.service, schedule: schedule.name }),
        ...serviceResources(schedule, provider),
    });
}
