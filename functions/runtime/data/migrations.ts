/**
 * Versioned SQL migrations, one folder per service (`functions/<service>/migrations/0001_name.sql`).
 * The same runner applies them in the cloud (a migration function invoked during `pulumi up`) and
 * locally (at start of the local runtime). In the cloud each database service's invocation is one
 * run of that service alone (`ServiceMigrationRequest`); locally one run covers every service.
 * One run is one transaction under an advisory lock:
 * first the platform's own SQL (the `platform` schema, each service's schema and roles,
 * `provisioning.ts`), then each service's pending files in order, inside its own schema and as its
 * owner role, each recorded with a checksum so that editing an applied file is caught instead of
 * silently skipped.
 *
 * **Order.** Each service's files apply in version order. Across services the order does not
 * matter: a service's migrations run in its own schema and cannot see another's, so a new service
 * (whatever its name sorts as) finds everything it needs on a fresh database. Services share data
 * through their APIs and events, never through joins or foreign keys across schemas.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { CONNECT_RETRY_WINDOW_MS, createDatabase, type Database, type DatabaseOptions, type Queryable } from "./database";
import { MIGRATIONS_TABLE, provisionPlatform, provisionService, type LoginProvisioning } from "./provisioning";
import { PLATFORM_SCHEMA, quoteIdentifier as id, serviceSchema, type LoginMethod, type ServiceData } from "./service-data";

export interface Migration {
    service: string;
    /** The number the file name starts with; applied in ascending order per service. */
    version: number;
    name: string;
    /** Where the file is, for messages: relative to the repository when it is inside it. */
    file: string;
    sql: string;
    checksum: string;
}

/**
 * What one migration run is asked to do besides the SQL: the services' schemas, roles and limits,
 * and how their login roles sign in. In the cloud it is the migration function's invocation input,
 * so a change of a limit runs the function again and shows in the preview.
 */
export interface MigrationRunRequest {
    /** The hash of the migration set, as the program computed it. */
    migrationSetHash: string;
    services: ServiceData[];
    login: LoginMethod;
}

export interface MigrationResult {
    applied: string[];
    alreadyApplied: number;
}

const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

// Only for naming files in messages; never read inside a deployed function.
const REPOSITORY_ROOT = path.resolve(__dirname, "..", "..", "..");

export function sha256(text: string): string {
    return createHash("sha256").update(text).digest("hex");
}

/** The file name a migration has: `0001_create_users.sql`. */
export function migrationFileName(version: number, name: string): string {
    return `${String(version).padStart(4, "0")}_${name}.sql`;
}

function displayPath(file: string): string {
    const relative = path.relative(REPOSITORY_ROOT, file);
    return relative.startsWith("..") || path.isAbsolute(relative) ? file : relative;
}

/** A migration folder that cannot be used as it is; `problem` is the message without the service. */
export class MigrationFolderError extends Error {
    constructor(
        service: string,
        readonly problem: string,
    ) {
        super(`Service "${service}": ${problem}`);
        this.name = "MigrationFolderError";
    }
}

/** Reads a service's migration folder. Files that do not match `NNNN_name.sql` are an error, not ignored. */
export function readMigrations(service: string, directory: string): Migration[] {
    const migrations = fs
        .readdirSync(directory)
        .sort()
        .map((file) => {
            const match = FILE_NAME.exec(file);
            if (!match) {
                throw new MigrationFolderError(service, `migration file "${file}" must be named NNNN_name.sql (e.g. 0001_create_users.sql).`);
            }
            const fullPath = path.join(directory, file);
            const sql = fs.readFileSync(fullPath, "utf8");
            return { service, version: Number(match[1]), name: match[2], file: displayPath(fullPath), sql, checksum: sha256(sql) };
        });
    const versions = new Set<number>();
    for (const migration of migrations) {
        if (versions.has(migration.version)) {
            throw new MigrationFolderError(service, `two migrations share version ${migration.version}.`);
        }
        versions.add(migration.version);
    }
    return migrations;
}

/** One hash over a set of migrations: the cloud re-runs the migration function when it changes. */
export function migrationSetHash(migrations: readonly Migration[]): string {
    return sha256(migrations.map((m) => `${m.service}/${m.version}/${m.checksum}`).join("\n"));
}

/**
 * How long one migration run may take, in seconds: the migration worker's timeout in the cloud
 * (it runs outside the HTTP API, so the route timeout does not bind it), and locally the same
 * bound on its statements.
 */
export const MIGRATION_TIMEOUT_SECONDS = 300;

/**
 * How much longer the migration launcher may run than its worker: a first run refused at sign-in
 * (which may have waited out a resuming cluster for `CONNECT_RETRY_WINDOW_MS` first) before the
 * full run, and the reads of the master secret around them.
 */
export const MIGRATION_LAUNCHER_EXTRA_SECONDS = CONNECT_RETRY_WINDOW_MS / 1000 + 30;

// Any constant works; it only has to be the same for every runner so that two never interleave.
const MIGRATION_LOCK_KEY = 727_401_190;

/** `position` (PostgreSQL's 1-based character offset into the statement text) as line and column of `sql`. */
export function lineAndColumn(sql: string, position: number): { line: number; column: number } {
    const before = Array.from(sql).slice(0, Math.max(0, position - 1));
    let line = 1;
    let column = 1;
    for (const character of before) {
        if (character === "\n") {
            line++;
            column = 1;
        } else {
            column++;
        }
    }
    return { line, column };
}

/**
 * What the migration function is invoked with: one database service's schema, roles and limits and
 * that service's migrations. The function holds no service's SQL; each service's own invocation
 * (its stack's, in the per-service layout) carries it, so a new migration needs no platform deploy
 * and one service's failing migration fails only that invocation.
 */
export interface ServiceMigrationRequest {
    /** The hash of this service's migrations (`migrationSetHash` over them alone). */
    migrationSetHash: string;
    service: ServiceData;
    /** This service's migrations, in version order; each one's `service` is `service.service`. */
    migrations: Migration[];
    login: LoginMethod;
}

const SERVICE_DATA_FIELDS = { service: "string", schema: "string", ownerRole: "string", loginRole: "string", connectionLimit: "integer", statementTimeoutMs: "integer" } as const;
const MIGRATION_FIELDS = { service: "string", version: "integer", name: "string", file: "string", sql: "string", checksum: "string" } as const;

/** The fields of `value` that are missing or of the wrong kind, by `shape`. */
function wrongFields(value: unknown, shape: Readonly<Record<string, "string" | "integer">>): string[] {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return ["(not an object)"];
    const record = value as Record<string, unknown>;
    return Object.entries(shape)
        .filter(([field, kind]) => (kind === "integer" ? !Number.isInteger(record[field]) : typeof record[field] !== "string"))
        .map(([field, kind]) => `${field} (${kind})`);
}

/**
 * The migration function's event, checked before anything runs: it is what a service's invocation
 * sends, but a person can invoke the function too, and a run with half a request must not change
 * roles. Every problem is named at once; a migration's checksum must be its SQL's, so a payload
 * edited by hand cannot record SQL it did not run.
 */
export function parseServiceMigrationRequest(event: unknown): ServiceMigrationRequest {
    const request = (event ?? {}) as Partial<Record<keyof ServiceMigrationRequest, unknown>>;
    const problems: string[] = [];
    if (typeof event !== "object" || event === null || Array.isArray(event)) problems.push("the event is not a JSON object");
    if (typeof request.migrationSetHash !== "string") problems.push('"migrationSetHash" must be a string');
    if (request.login !== "iam" && request.login !== "password") problems.push('"login" must be "iam" or "password"');
    const serviceProblems = wrongFields(request.service, SERVICE_DATA_FIELDS);
    if (serviceProblems.length > 0) problems.push(`"service" needs ${serviceProblems.join(", ")}`);
    const owner = (request.service as ServiceData | undefined)?.service;
    if (!Array.isArray(request.migrations)) {
        problems.push('"migrations" must be an array (empty for a service without migrations)');
    } else {
        request.migrations.forEach((migration: unknown, index: number) => {
            const wrong = wrongFields(migration, MIGRATION_FIELDS);
            if (wrong.length > 0) {
                problems.push(`"migrations[${index}]" needs ${wrong.join(", ")}`);
                return;
            }
            const { service, sql, checksum, file } = migration as Migration;
            if (typeof owner === "string" && service !== owner) problems.push(`"migrations[${index}]" (${file}) belongs to service "${service}", not "${owner}"`);
            if (sha256(sql) !== checksum) problems.push(`"migrations[${index}]" (${file}) has a checksum that is not its SQL's`);
        });
    }
    if (problems.length > 0) {
        throw new Error(`A migration run needs one service's {"migrationSetHash", "login", "service", "migrations"}, the input its stack's invocation sends: ${problems.join("; ")}.`);
    }
    const valid = request as ServiceMigrationRequest;
    return { migrationSetHash: valid.migrationSetHash, service: valid.service, migrations: valid.migrations, login: valid.login };
}

export interface MigrationRunOptions {
    /**
     * With `login: "password"`: each login role's password (the local runtime derives them from its
     * data folder's secret). Never part of the request, which the cloud keeps in its state.
     */
    passwordOf?(role: string): string;
}

/**
 * Applies the platform's SQL and the pending migrations. Safe to run again and from two places at
 * once: an advisory lock serializes runners, and recorded versions are skipped.
 */
export async function applyMigrations(db: Database, request: MigrationRunRequest, migrations: readonly Migration[], options: MigrationRunOptions = {}): Promise<MigrationResult> {
    const services = [...request.services].sort((a, b) => a.service.localeCompare(b.service));
    const byService = new Map(services.map((service) => [service.service, service]));
    for (const migration of migrations) {
        if (!byService.has(migration.service)) throw new Error(`Migration ${migration.file} belongs to service "${migration.service}", which the run has no schema for.`);
    }
    const { passwordOf } = options;
    if (request.login === "password" && !passwordOf) throw new Error('A migration run with login "password" needs each login role\'s password (passwordOf).');
    const login: LoginProvisioning = request.login === "password" ? { method: "password", passwordOf: passwordOf! } : { method: "iam" };
    return db.transaction(async (tx) => {
        await tx.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
        await provisionPlatform(tx);
        for (const service of services) await provisionService(tx, service, login);

        const { rows } = await tx.query<AppliedMigration>(`SELECT service, version, name, checksum, applied_at AS "appliedAt" FROM ${MIGRATIONS_TABLE} ORDER BY service, version`);
        refuseGoneFiles(rows, migrations);
        const recorded = new Map(rows.map((row) => [`${row.service}/${row.version}`, row]));
        // A run for one service (the cloud's) still names whose schema a failed migration reached into: the others are known by their records.
        const neighbours: SchemaOwner[] = [...services, ...[...new Set(rows.map((row) => row.service))].filter((name) => !byService.has(name)).map((name) => ({ service: name, schema: serviceSchema(name) }))];
        const ordered = [...migrations].sort((a, b) => a.service.localeCompare(b.service) || a.version - b.version);
        const applied: string[] = [];
        for (const migration of ordered) {
            const key = `${migration.service}/${migration.version}`;
            const checksum = recorded.get(key)?.checksum;
            if (checksum !== undefined) {
                if (checksum !== migration.checksum) {
                    throw new Error(
                        `Migration ${key} (${migration.name}, ${migration.file}) was edited after it was applied. Add a new migration instead.`,
                    );
                }
                continue;
            }
            // One transaction for the whole run: every pending file applies, or none does.
            await applyInServiceSchema(tx, migration, byService.get(migration.service)!, neighbours);
            await tx.query(`INSERT INTO ${MIGRATIONS_TABLE} (service, version, name, checksum) VALUES ($1, $2, $3, $4)`, [
                migration.service,
                migration.version,
                migration.name,
                migration.checksum,
            ]);
            applied.push(`${key}_${migration.name}`);
        }
        return { applied, alreadyApplied: ordered.length - applied.length };
    });
}

/** A row of the platform's table of applied migrations. */
interface AppliedMigration {
    service: string;
    version: number;
    name: string;
    checksum: string;
    appliedAt: Date;
}

/**
 * Refuses a run that lacks a file already applied, before anything of it runs. A service no
 * longer in the registry keeps its rows (and its schema): only the files of services that still
 * have migrations are expected to be there.
 */
function refuseGoneFiles(applied: readonly AppliedMigration[], migrations: readonly Migration[]): void {
    const present = new Set(migrations.map((migration) => `${migration.service}/${migration.version}`));
    for (const row of applied) {
        const siblings = migrations.filter((migration) => migration.service === row.service);
        if (siblings.length === 0 || present.has(`${row.service}/${row.version}`)) continue;
        const file = path.posix.join(path.posix.dirname(siblings[0].file.split(path.sep).join("/")), migrationFileName(row.version, row.name));
        throw new Error(
            `Migration ${file} of service "${row.service}" (version ${row.version}) was applied on ${new Date(row.appliedAt).toISOString()} but its file is gone. ` +
                "Restore it: an applied migration stays, and undoing one is a new migration.",
        );
    }
}

/**
 * One migration, inside its service's schema and as its owner role, so it can create, change and
 * drop only what the service owns. A savepoint lets a failure be explained from the catalog
 * before the whole run is rolled back.
 */
/** A service by the schema it owns: what a failed migration's message needs of the services around it. */
type SchemaOwner = Pick<ServiceData, "service" | "schema">;

async function applyInServiceSchema(tx: Queryable, migration: Migration, service: ServiceData, services: readonly SchemaOwner[]): Promise<void> {
    await tx.query("SAVEPOINT migration");
    try {
        await tx.query(`SET LOCAL ROLE ${id(service.ownerRole)}`);
        await tx.query(`SET LOCAL search_path = ${id(service.schema)}`);
        await tx.query(migration.sql);
        const { rows } = await tx.query<{ role: string }>("SELECT current_user AS role");
        if (rows[0]?.role !== service.ownerRole) {
            throw new Error(`it changed the role it runs as to "${rows[0]?.role}"; migrations run as the service's owner role "${service.ownerRole}" and may not leave it`);
        }
    } catch (error) {
        await tx.query("ROLLBACK TO SAVEPOINT migration");
        throw migrationFailure(migration, error, await ownerOfTouchedObject(tx, migration, error, service, services));
    }
    await tx.query("SET LOCAL ROLE NONE");
    await tx.query("SET LOCAL search_path TO DEFAULT");
    await tx.query("RELEASE SAVEPOINT migration");
}

/** Whose object a failed migration reached for: another service (by its schema), or the platform. */
interface TouchedObject {
    /** The other service's name, or "the platform". */
    owner: string;
    object: string;
    /** Where the migration names it (1-based), for errors PostgreSQL reports with no position (permission checks). */
    position?: number;
}

/** The first place `sql` names `schema.` or, without a schema, `name` as a word; 1-based like PostgreSQL's positions. */
function firstMention(sql: string, schema: string | undefined, name?: string): number | undefined {
    const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const pattern = new RegExp(schema ? `\\b${escape(schema)}\\s*\\.` : `\\b${escape(name ?? "")}\\b`, "i");
    const index = sql.search(pattern);
    return index === -1 ? undefined : index + 1;
}

/**
 * Reads from PostgreSQL's error which object was touched and looks it up among the other
 * services' schemas: a qualified name is refused for lack of `USAGE` on the schema; an unqualified
 * one is not found, since only the service's own schema is on the path.
 */
async function ownerOfTouchedObject(tx: Queryable, migration: Migration, error: unknown, self: ServiceData, services: readonly SchemaOwner[]): Promise<TouchedObject | undefined> {
    const message = String((error as Error)?.message ?? "");
    const bySchema = (schema: string) => (schema === PLATFORM_SCHEMA ? "the platform" : services.find((s) => s.schema === schema && s.service !== self.service)?.service);
    const deniedSchema = /permission denied for schema (\S+)/.exec(message)?.[1];
    if (deniedSchema) {
        const owner = bySchema(deniedSchema);
        return owner ? { owner, object: `schema ${deniedSchema}`, position: firstMention(migration.sql, deniedSchema) } : undefined;
    }
    const named =
        /relation "([^"]+)" does not exist/.exec(message)?.[1] ??
        /type "([^"]+)" does not exist/.exec(message)?.[1] ??
        /function ([^\s(]+)\(.*\) does not exist/.exec(message)?.[1] ??
        /(?:permission denied for|must be owner of) (?:table|view|materialized view|sequence|relation|function|type|foreign table) (\S+)/.exec(message)?.[1];
    if (!named) return undefined;
    const [schema, name] = named.includes(".") ? named.split(".", 2) : [undefined, named];
    if (schema) {
        const owner = bySchema(schema);
        return owner ? { owner, object: named, position: firstMention(migration.sql, schema) } : undefined;
    }
    const others = services.filter((s) => s.service !== self.service).map((s) => s.schema);
    const { rows } = await tx.query<{ schema: string }>(
        `SELECT n.nspname AS schema FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = $1 AND n.nspname = ANY($2)
         UNION SELECT n.nspname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typname = $1 AND n.nspname = ANY($2)
         UNION SELECT n.nspname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.proname = $1 AND n.nspname = ANY($2)
         ORDER BY 1 LIMIT 1`,
        [name, others],
    );
    const found = rows[0]?.schema;
    return found ? { owner: bySchema(found)!, object: `${found}.${name}`, position: firstMention(migration.sql, undefined, name) } : undefined;
}

/**
 * The one error path of a failed migration: the file with the line and column PostgreSQL points at
 * (`functions/users/migrations/0002_x.sql:3:10`, which editors and terminals open there), the
 * service and version, PostgreSQL's own words with its detail, hint and SQLSTATE, and, when the
 * migration reached into another service's schema, whose it is and how services share data instead.
 */
export function migrationFailure(migration: Migration, error: unknown, touched?: TouchedObject): Error {
    const { message, position, detail, hint, code } = (error ?? {}) as { message?: string; position?: string; detail?: string; hint?: string; code?: string };
    const reason = [message ?? String(error), detail && `detail: ${detail}`, hint && `hint: ${hint}`, code && `SQLSTATE ${code}`].filter(Boolean);
    // Permission checks carry no position: then the place the migration names the touched object.
    const offset = Number(position ?? touched?.position);
    const at = Number.isInteger(offset) && offset > 0 ? lineAndColumn(migration.sql, offset) : undefined;
    const where = `Migration ${migration.file}${at ? `:${at.line}:${at.column}` : ""} of service "${migration.service}" (version ${migration.version}) failed`;
    const whose = touched && (touched.owner === "the platform" ? "the platform's own schema" : `service "${touched.owner}"`);
    const what = touched
        ? `it touches ${touched.object}, which belongs to ${whose} (${reason.join("; ")}). ` +
          `A service's migrations reach only its own schema "${serviceSchema(migration.service)}". Services share data through the owning service's API or its events, ` +
          `keeping the other service's ids as plain columns: never a foreign key, a view or a query across schemas`
        : reason[0] + (reason.length > 1 ? ` (${reason.slice(1).join("; ")})` : "");
    return new Error(`${where}: ${what}. Nothing of this run was applied.`, { cause: error });
}

/**
 * One migration run over a connection of its own, closed afterwards: the whole job of the cloud's
 * migration function (settings from its environment) and of the local runtime at start (its
 * connection string).
 */
export async function runMigrations(settings: DatabaseOptions, request: MigrationRunRequest, migrations: readonly Migration[], options: MigrationRunOptions = {}): Promise<MigrationResult> {
    const db = createDatabase(settings);
    try {
        return await applyMigrations(db, request, migrations, options);
    } finally {
        await db.end();
    }
}

/**
 * The migration function's job: one service's schema, roles and pending migrations, in one run of
 * the same runner (its own transaction under the shared advisory lock). Other services' records
 * and schemas are left as they are.
 */
export function runServiceMigration(settings: DatabaseOptions, request: ServiceMigrationRequest, options: MigrationRunOptions = {}): Promise<MigrationResult> {
    return runMigrations(settings, { migrationSetHash: request.migrationSetHash, services: [request.service], login: request.login }, request.migrations, options);
}
