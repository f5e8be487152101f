/**
 * Reading an ECS task definition's `containerDefinitions`: a JSON string (as the provider takes
 * it) or already a list. The container rules share this one reader.
 */
import { isUnknown } from "./unknown";

/** One container definition, as much of it as the rules read. */
export interface ContainerDefinition {
    name?: string;
    essential?: boolean;
    privileged?: boolean;
    logConfiguration?: { logDriver?: string; options?: Record<string, string> };
    healthCheck?: { command?: string[] };
    [key: string]: unknown;
}

export type ContainerDefinitions =
    | { kind: "known"; containers: ContainerDefinition[] }
    /** Computed from outputs that do not exist yet (preview): nothing can be said. */
    | { kind: "unknown" }
    | { kind: "invalid"; message: string };

export function containerDefinitionsOf(props: Record<string, any>): ContainerDefinitions {
    const value = props.containerDefinitions;
    if (isUnknown(value)) return { kind: "unknown" };
    let parsed: unknown = value;
    if (typeof value === "string") {
        try {
            parsed = JSON.parse(value);
        } catch {
            return { kind: "invalid", message: "containerDefinitions is not valid JSON." };
        }
    }
    if (!Array.isArray(parsed) || parsed.some((item) => typeof item !== "object" || item === null)) {
        return { kind: "invalid", message: "containerDefinitions is not a list of container definitions." };
    }
    return { kind: "known", containers: parsed as ContainerDefinition[] };
}

/** A container's name for messages. */
export function containerLabel(container: ContainerDefinition, index: number): string {
    return typeof container.name === "string" ? `Container "${container.name}"` : `Container #${index + 1}`;
}

/**
 * A resource rule's messages over every container of a task definition: none while the
 * definitions are unknown (preview), the reader's message when they cannot be read.
 */
export function checkContainers(props: Record<string, any>, check: (container: ContainerDefinition, label: string) => string[]): string[] {
    const definitions = containerDefinitionsOf(props);
    if (definitions.kind === "unknown") return [];
    if (definitions.kind === "invalid") return [definitions.message];
    return definitions.containers.flatMap((container, index) => check(container, containerLabel(container, index)));
}
