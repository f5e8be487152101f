/**
 * Structured JSON logs, one object a line, each carrying the request id. Lambda's JSON log format
 * keeps such lines as they are, so CloudWatch Logs Insights can query every field.
 */
/** The levels Lambda's log configuration knows, lowest first. */
export const LOG_LEVELS = ["DEBUG", "INFO", "WARN", "ERROR"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const LEVEL_ORDER: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40 };

export interface Logger {
    debug(message: string, fields?: Record<string, unknown>): void;
    info(message: string, fields?: Record<string, unknown>): void;
    warn(message: string, fields?: Record<string, unknown>): void;
    error(message: string, fields?: Record<string, unknown>): void;
    /** A logger whose lines also carry `fields`. */
    child(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
    /** Lowest level written. @default INFO (the route wrapper passes the level Lambda's log configuration sets) */
    level?: LogLevel;
    /** Where lines go. @default standard output */
    write?: (line: string) => void;
    /** Fields on every line (service, function, request id). */
    fields?: Record<string, unknown>;
}

/** Error objects do not survive JSON.stringify; keep their name and message, and the stack for logs only. */
function serializable(value: unknown): unknown {
    if (value instanceof Error) {
        return { name: value.name, message: value.message, stack: value.stack };
    }
    return value;
}

export function createLogger(options: LoggerOptions = {}): Logger {
    const threshold = LEVEL_ORDER[options.level ?? "INFO"];
    const write = options.write ?? ((line: string) => process.stdout.write(line + "\n"));
    const baseFields = options.fields ?? {};

    const emit = (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
        if (LEVEL_ORDER[level] < threshold) return;
        const entry: Record<string, unknown> = { timestamp: new Date().toISOString(), level, message, ...baseFields };
        for (const [key, value] of Object.entries(fields ?? {})) entry[key] = serializable(value);
        write(JSON.stringify(entry));
    };

    return {
        debug: (message, fields) => emit("DEBUG", message, fields),
        info: (message, fields) => emit("INFO", message, fields),
        warn: (message, fields) => emit("WARN", message, fields),
        error: (message, fields) => emit("ERROR", message, fields),
        child: (fields) => createLogger({ level: options.level, write, fields: { ...baseFields, ...fields } }),
    };
}
