/**
 * Moving a database of the earlier layout into the per-service one, inside the migration run's
 * transaction: every table in `public`, `public.schema_migrations` with a `service` column,
 * everything owned by the administrator.
 *
 * Which objects belong to which service is what that service's applied migrations created. The
 * runner knows those migrations (the applied ones must match the files by checksum), so it plays
 * them again, in the order the earlier runner applied them, into a scratch schema inside a
 * savepoint, notes what each service's files created there, and rolls the savepoint back. Then,
 * for each service, it moves those objects from `public` into the service's schema
 * (`ALTER ... SET SCHEMA` takes indexes, constraints and owned sequences along), hands them to the
 * service's owner role, gives its login role DML on them, carries the migration records over, and
 * leaves a view in `public` for every moved table.
 *
 * The views are for the code of the earlier release, which keeps serving requests during the
 * `pulumi up` that runs this: it signs in as the administrator with `search_path` public and
 * unqualified table names, and simple views are updatable, so its reads and writes keep working
 * until the new functions (which go live only after this run) replace it. The first migration
 * run of a later release (another run id) drops them (`dropCompatibilityViews`).
 */
import type { Queryable } from "./database";
import { COMPATIBILITY_VIEWS_TABLE, grantLoginOnExisting, MIGRATIONS_TABLE } from "./data-provisioning";
import type { Migration } from "./migrations";
import { quoteIdentifier as id, type ServiceData } from "./service-data";

/** Where the earlier migrations are played again; a `-` no service schema can contain. */
const SCRATCH_SCHEMA = "platform-scratch";

/** What moving the earlier layout did. */
export interface LayoutMove {
    /** `schema.name` of every object moved out of `public`. */
    moved: string[];
    /** What a person should look at: tables left in `public`, foreign keys that now cross schemas. */
    warnings: string[];
}

interface OwnedObject {
    kind: "relation" | "type" | "routine";
    name: string;
    /** `relkind` for relations (r, p, v, m, f, S), `typtype` for types (e, d, r, c). */
    detail: string;
}

const RELATION_KEYWORD: Record<string, string> = { r: "TABLE", p: "TABLE", v: "VIEW", m: "MATERIALIZED VIEW", f: "FOREIGN TABLE", S: "SEQUENCE" };
/** Relations whose rows the earlier code reads or writes through a view of the same name. */
const VIEWABLE = new Set(["r", "p", "v", "m", "f"]);

/** The objects in `schema` a migration can create and a service can own; sequences owned by a column move with their table. */
async function objectsIn(tx: Queryable, schema: string): Promise<OwnedObject[]> {
    const { rows } = await tx.query<OwnedObject>(
        `SELECT 'relation' AS kind, c.relname AS name, c.relkind::text AS detail FROM pg_class c
          WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = $1) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
            AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')))
         UNION ALL
         SELECT 'type', t.typname, t.typtype::text FROM pg_type t
          WHERE t.typnamespace = (SELECT oid FROM pg_namespace WHERE nspname = $1)
            AND (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
         UNION ALL
         SELECT DISTINCT 'routine', p.proname, 'f' FROM pg_proc p WHERE p.pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = $1)`,
        [schema],
    );
    return rows;
}

const key = (object: OwnedObject) => `${object.kind}:${object.name}`;

/** True when the database has the earlier layout: a migration table in `public` with a `service` column. */
export async function hasLegacyLayout(tx: Queryable): Promise<boolean> {
    const { rows } = await tx.query(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'schema_migrations' AND column_name = 'service'",
    );
    return rows.length > 0;
}

/**
 * Which service's migrations created which objects: the applied migrations played again, in the
 * earlier runner's order (by service name, then version), into a scratch schema that is rolled back.
 */
async function attributeObjects(tx: Queryable, applied: readonly Migration[]): Promise<Map<string, OwnedObject[]>> {
    const owners = new Map<string, OwnedObject[]>();
    const seen = new Set<string>();
    const ordered = [...applied].sort((a, b) => a.service.localeCompare(b.service) || a.version - b.version);
    await tx.query("SAVEPOINT legacy_replay");
    try {
        await tx.query(`CREATE SCHEMA ${id(SCRATCH_SCHEMA)}`);
        await tx.query(`SET LOCAL search_path = ${id(SCRATCH_SCHEMA)}`);
        for (const [index, migration] of ordered.entries()) {
            try {
                await tx.query(migration.sql);
            } catch (error) {
                throw new Error(
                    `Moving the earlier layout: replaying migration ${migration.file} of service "${migration.service}" to learn which tables are its own failed: ` +
                        `${(error as Error).message}. A migration that names schema public explicitly cannot be attributed; move its objects into schema ${migration.service} by hand.`,
                );
            }
            if (ordered[index + 1]?.service === migration.service) continue;
            for (const object of await objectsIn(tx, SCRATCH_SCHEMA)) {
                if (seen.has(key(object))) continue;
                seen.add(key(object));
                owners.set(migration.service, [...(owners.get(migration.service) ?? []), object]);
            }
        }
    } finally {
        // Undoes the replay and the search_path with it.
        await tx.query("ROLLBACK TO SAVEPOINT legacy_replay");
        await tx.query("RELEASE SAVEPOINT legacy_replay");
    }
    return owners;
}

/** `public.name` and the same in `schema`, for ALTER statements on `object`. */
async function moveObject(tx: Queryable, object: OwnedObject, service: ServiceData): Promise<boolean> {
    const to = id(service.schema);
    const owner = id(service.ownerRole);
    if (object.kind === "relation") {
        const { rows } = await tx.query("SELECT 1 FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relname = $1", [object.name]);
        if (rows.length === 0) return false;
        const keyword = RELATION_KEYWORD[object.detail];
        // Into the service's schema first: the owner role may create there, not in public.
        await tx.query(`ALTER ${keyword} public.${id(object.name)} SET SCHEMA ${to}`);
        await tx.query(`ALTER ${keyword} ${to}.${id(object.name)} OWNER TO ${owner}`);
        return true;
    }
    if (object.kind === "type") {
        const { rows } = await tx.query("SELECT 1 FROM pg_type WHERE typnamespace = 'public'::regnamespace AND typname = $1", [object.name]);
        if (rows.length === 0) return false;
        const keyword = object.detail === "d" ? "DOMAIN" : "TYPE";
        await tx.query(`ALTER ${keyword} public.${id(object.name)} SET SCHEMA ${to}`);
        await tx.query(`ALTER ${keyword} ${to}.${id(object.name)} OWNER TO ${owner}`);
        return true;
    }
    const { rows: routines } = await tx.query<{ args: string }>(
        "SELECT pg_get_function_identity_arguments(oid) AS args FROM pg_proc WHERE pronamespace = 'public'::regnamespace AND proname = $1",
        [object.name],
    );
    for (const { args } of routines) {
        await tx.query(`ALTER ROUTINE public.${id(object.name)}(${args}) SET SCHEMA ${to}`);
        await tx.query(`ALTER ROUTINE ${to}.${id(object.name)}(${args}) OWNER TO ${owner}`);
    }
    return routines.length > 0;
}

/**
 * Moves the earlier layout's objects into the services' schemas (which `provisionService` has
 * made), carries the migration records over and leaves the compatibility views, all in the
 * caller's transaction. `migrations` is the current set: every applied migration must be in it,
 * unchanged.
 */
export async function moveLegacyLayout(tx: Queryable, services: readonly ServiceData[], migrations: readonly Migration[], runId: string): Promise<LayoutMove> {
    const { rows: records } = await tx.query<{ service: string; version: number; checksum: string }>("SELECT service, version, checksum FROM public.schema_migrations");
    const byKey = new Map(migrations.map((m) => [`${m.service}/${m.version}`, m]));
    const applied: Migration[] = [];
    for (const record of records) {
        const migration = byKey.get(`${record.service}/${record.version}`);
        if (!migration) continue; // a service no longer in the registry: its objects stay in public
        if (migration.checksum !== record.checksum) {
            throw new Error(`Migration ${migration.file} of service "${migration.service}" was edited after it was applied. Add a new migration instead.`);
        }
        applied.push(migration);
    }

    const owners = await attributeObjects(tx, applied);
    const moved: string[] = [];
    for (const service of services) {
        const objects = owners.get(service.service) ?? [];
        const movedHere: OwnedObject[] = [];
        for (const object of objects) {
            if (await moveObject(tx, object, service)) movedHere.push(object);
        }
        if (movedHere.length === 0) continue;
        await grantLoginOnExisting(tx, service);
        for (const object of movedHere) {
            moved.push(`${service.schema}.${object.name}`);
            if (object.kind !== "relation" || !VIEWABLE.has(object.detail)) continue;
            await tx.query(`CREATE VIEW public.${id(object.name)} AS SELECT * FROM ${id(service.schema)}.${id(object.name)}`);
            await tx.query(`INSERT INTO ${COMPATIBILITY_VIEWS_TABLE} (name, target, created_by_run) VALUES ($1, $2, $3)`, [
                object.name,
                `${service.schema}.${object.name}`,
                runId,
            ]);
        }
    }

    await tx.query(`INSERT INTO ${MIGRATIONS_TABLE} (service, version, name, checksum, applied_at)
        SELECT service, version, name, checksum, applied_at FROM public.schema_migrations ON CONFLICT DO NOTHING`);
    await tx.query("DROP TABLE public.schema_migrations");
    return { moved, warnings: await layoutWarnings(tx, services) };
}

/** Tables nobody's migrations created, left in public; foreign keys between two schemas, which the move kept. */
async function layoutWarnings(tx: Queryable, services: readonly ServiceData[]): Promise<string[]> {
    const schemas = services.map((service) => service.schema);
    const { rows: left } = await tx.query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_class c
          WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
            AND c.relname NOT IN (SELECT name FROM ${COMPATIBILITY_VIEWS_TABLE}) ORDER BY 1`,
    );
    const { rows: crossing } = await tx.query<{ name: string; from: string; to: string }>(
        `SELECT con.conname AS name, cn.nspname || '.' || c.relname AS "from", fn.nspname || '.' || f.relname AS "to"
           FROM pg_constraint con
           JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
           JOIN pg_class f ON f.oid = con.confrelid JOIN pg_namespace fn ON fn.oid = f.relnamespace
          WHERE con.contype = 'f' AND cn.nspname <> fn.nspname AND (cn.nspname = ANY($1) OR fn.nspname = ANY($1)) ORDER BY 1`,
        [schemas],
    );
    return [
        ...left.map(({ name }) => `public.${name} was created by no migration of a service in the registry and stays in public.`),
        ...crossing.map(
            (fk) => `Foreign key ${fk.name} of ${fk.from} references ${fk.to}, another service's table: replace it with a plain id column (services share data by API or events).`,
        ),
    ];
}

/** Drops the compatibility views a different (earlier) run left: the code that read them is gone by now. */
export async function dropCompatibilityViews(tx: Queryable, runId: string): Promise<string[]> {
    const { rows } = await tx.query<{ name: string }>(`DELETE FROM ${COMPATIBILITY_VIEWS_TABLE} WHERE created_by_run <> $1 RETURNING name`, [runId]);
    for (const { name } of rows) await tx.query(`DROP VIEW IF EXISTS public.${id(name)}`);
    return rows.map(({ name }) => `public.${name}`);
}
