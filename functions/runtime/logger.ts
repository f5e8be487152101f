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

/**
 * A class, not an object of closures: the route wrapper makes a child logger for every request,
 * and a child is then one small object whose methods live on the prototype.
 */
class JsonLogger implements Logger {
    constructor(
        private readonly threshold: number,
        private readonly write: (line: string) => void,
        private readonly fields: Record<string, unknown>,
    ) {}

    debug(message: string, fields?: Record<string, unknown>): void {
        this.emit("DEBUG", message, fields);
    }
    info(message: string, fields?: Record<string, unknown>): void {
        this.emit("INFO", message, fields);
    }
    warn(message: string, fields?: Record<string, unknown>): void {
        this.emit("WARN", message, fields);
    }
    error(message: string, fields?: Record<string, unknown>): void {
        this.emit("ERROR", message, fields);
    }
    child(fields: Record<string, unknown>): Logger {
        return new JsonLogger(this.threshold, this.write, { ...this.fields, ...fields });
    }

    private emit(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
        if (LEVEL_ORDER[level] < this.threshold) return;
        const entry: Record<string, unknown> = { timestamp: new Date().toISOString(), level, message, ...this.fields };
        if (fields) for (const key of Object.keys(fields)) entry[key] = serializable(fields[key]);
        this.write(JSON.stringify(entry));
    }
}

export function createLogger(options: LoggerOptions = {}): Logger {
    const write = options.write ?? ((line: string) => process.stdout.write(line + "\n"));
    return new JsonLogger(LEVEL_ORDER[options.level ?? "INFO"], write, options.fields ?? {});
}
