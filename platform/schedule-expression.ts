/**
 * EventBridge Scheduler's recurring expressions, read once: `rate(value unit)` and
 * `cron(minutes hours day-of-month month day-of-week year)`. The registry refuses what Scheduler
 * would refuse (before any resource), and the local runtime computes the next runs from the same
 * reading. Pure code, no Pulumi.
 */

export type ScheduleExpression =
    | { kind: "rate"; value: number; unit: "minute" | "hour" | "day"; everyMs: number }
    | { kind: "cron"; fields: CronFields };

export interface CronFields {
    minutes: string;
    hours: string;
    dayOfMonth: string;
    month: string;
    dayOfWeek: string;
    year: string;
}

const UNIT_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;
const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
/** Scheduler's days of the week: 1-7, Sunday first. */
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

interface FieldRule {
    name: string;
    min: number;
    max: number;
    names?: readonly string[];
    /** `?`, and the field's own specials. */
    question?: boolean;
    special?: RegExp;
}

const FIELD_RULES: Record<keyof CronFields, FieldRule> = {
    minutes: { name: "minutes", min: 0, max: 59 },
    hours: { name: "hours", min: 0, max: 23 },
    // L (last day), LW (last weekday), 15W (weekday nearest the 15th), L-3 (three days before the last).
    dayOfMonth: { name: "day-of-month", min: 1, max: 31, question: true, special: /^(L|LW|L-([1-9]|[12]\d|30)|([1-9]|[12]\d|3[01])W)$/ },
    month: { name: "month", min: 1, max: 12, names: MONTHS },
    // 6L (the last Friday), 2#1 (the first Monday), L (Saturday, the last day of the week).
    dayOfWeek: { name: "day-of-week", min: 1, max: 7, names: DAYS, question: true, special: /^(L|([1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)(L|#[1-5]))$/i },
    year: { name: "year", min: 1970, max: 2199 },
};

function valueOf(token: string, rule: FieldRule): number | undefined {
    if (/^\d+$/.test(token)) {
        const value = Number(token);
        return value >= rule.min && value <= rule.max ? value : undefined;
    }
    const index = rule.names?.indexOf(token.toUpperCase()) ?? -1;
    return index >= 0 ? rule.min + index : undefined;
}

/** What is wrong with one field of a cron expression, or nothing. */
function fieldProblems(text: string, rule: FieldRule): string[] {
    if (text === "?") return rule.question ? [] : [`${rule.name} cannot be ?`];
    const allowed = `${rule.min}-${rule.max}${rule.names ? ` or ${rule.names[0]}-${rule.names[rule.names.length - 1]}` : ""}`;
    const problems: string[] = [];
    for (const item of text.split(",")) {
        if (rule.special?.test(item)) continue;
        const match = /^([^/]+)(?:\/(\d+))?$/.exec(item);
        if (!match) {
            problems.push(`${rule.name} "${item}" is not a value, a range (a-b), a list (a,b) or a step (*/n, a/n)`);
            continue;
        }
        const [, base, step] = match;
        if (step !== undefined && (Number(step) < 1 || Number(step) > rule.max)) problems.push(`${rule.name} step /${step} is not from 1 to ${rule.max}`);
        if (base === "*") continue;
        const [from, to, ...more] = base.split("-");
        const first = valueOf(from, rule);
        const last = to === undefined ? first : valueOf(to, rule);
        if (more.length > 0 || first === undefined || last === undefined) problems.push(`${rule.name} "${item}" is not within ${allowed}`);
        else if (last < first) problems.push(`${rule.name} range "${base}" runs backwards`);
    }
    return problems;
}

/** Parses a Scheduler expression, or lists what is wrong with it (the messages finish "schedule ...: "). */
export function parseScheduleExpression(expression: unknown): { ok: true; expression: ScheduleExpression } | { ok: false; problems: string[] } {
    if (typeof expression !== "string") return { ok: false, problems: ['expression must be a string: "rate(5 minutes)" or "cron(0 3 * * ? *)"'] };
    const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
    if (rate) {
        const value = Number(rate[1]);
        const unit = rate[2].replace(/s$/, "") as "minute" | "hour" | "day";
        if (value < 1) return { ok: false, problems: [`expression ${expression}: the rate must be 1 or more`] };
        if ((value === 1) !== !rate[2].endsWith("s")) {
            return { ok: false, problems: [`expression ${expression}: Scheduler wants the unit singular for 1 and plural above (rate(1 ${unit}), rate(${Math.max(2, value)} ${unit}s))`] };
        }
        return { ok: true, expression: { kind: "rate", value, unit, everyMs: value * UNIT_MS[unit] } };
    }
    const cron = /^cron\((.*)\)$/.exec(expression);
    if (!cron) {
        const hint = expression.startsWith("at(") ? "at() runs once; a schedule of the registry recurs: " : "";
        return { ok: false, problems: [`expression ${JSON.stringify(expression)} is not one Scheduler runs; ${hint}use rate(<n> minutes|hours|days) or cron(minutes hours day-of-month month day-of-week year)`] };
    }
    const parts = cron[1].trim().split(/\s+/);
    if (parts.length !== 6) {
        return { ok: false, problems: [`expression ${expression} has ${parts.length} fields; a Scheduler cron has 6: minutes hours day-of-month month day-of-week year, e.g. cron(0 3 * * ? *)`] };
    }
    const fields: CronFields = { minutes: parts[0], hours: parts[1], dayOfMonth: parts[2], month: parts[3], dayOfWeek: parts[4], year: parts[5] };
    const problems = (Object.keys(FIELD_RULES) as (keyof CronFields)[]).flatMap((key) => fieldProblems(fields[key], FIELD_RULES[key]));
    if ((fields.dayOfMonth === "?") === (fields.dayOfWeek === "?")) {
        problems.push("exactly one of day-of-month and day-of-week must be ? (Scheduler cannot take both, nor neither)");
    }
    if (problems.length > 0) return { ok: false, problems: problems.map((problem) => `expression ${expression}: ${problem}`) };
    return { ok: true, expression: { kind: "cron", fields } };
}

/** Whether `timeZone` is a time zone name the runtime (and so IANA's database) knows. */
export function isTimeZone(timeZone: unknown): boolean {
    if (typeof timeZone !== "string" || timeZone === "") return false;
    try {
        new Intl.DateTimeFormat("en-US", { timeZone });
        return true;
    } catch {
        return false;
    }
}

/**
 * A cron expression as `croner` reads it (seconds first, the year last, days of the week from 0):
 * Scheduler counts Sunday as 1, croner as 0, so numeric days of the week move down by one.
 */
export function cronerPattern(fields: CronFields): string {
    const dayOfWeek = fields.dayOfWeek.replace(/\d+/g, (digits, offset: number, whole: string) => (whole[offset - 1] === "#" ? digits : String(Number(digits) - 1)));
    return ["0", fields.minutes, fields.hours, fields.dayOfMonth, fields.month, dayOfWeek, fields.year].join(" ");
}
