/**
 * PostgreSQL for tests and benchmarks: migrations applied the way the local runtime applies them,
 * a database whose administrator is what RDS makes the master user, and roles that sign in without
 * a password. The mocha fixture that starts one per test file is `tests/support/postgres.ts`.
 */
import type { RegisteredService } from "../functions/runtime/container";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pg from "pg";
import type { Database } from "../functions/runtime/data/database";
import { applyMigrations, type MigrationResult } from "../functions/runtime/data/migrations";
import { migrationRunRequest } from "../platform/data-plan";
import { resolveRegistry } from "../platform/registry/resolution";
import { readLocalStackConfig } from "../local/stack-config";
import type { LocalLogin } from "../local/service-login";

/** Applies `services`' migrations (with their schemas and roles) the way the local runtime does. */
export async function migrateAsLocalRuntime(db: Database, services: readonly RegisteredService[], login: LocalLogin): Promise<MigrationResult> {
    const stack = readLocalStackConfig();
    const registry = resolveRegistry(services, stack.functionDefaults);
    return applyMigrations(db, migrationRunRequest(registry, stack.database.connectionsPerFunction, "password"), registry.migrations, { passwordOf: login.passwordOf });
}

/**
 * A database whose administrator is what RDS makes the master user: not a superuser, but allowed
 * to create roles (CREATEROLE, as `rds_superuser` grants), owner of the database, and able to grant
 * an `rds_iam` role. Returns its connection string. The local superuser is the other kind of
 * administrator the migration run must work for.
 */
export async function createRdsLikeDatabase(superuserUrl: string, database: string, admin = "app_admin"): Promise<string> {
    const client = new pg.Client({ connectionString: superuserUrl });
    await client.connect();
    try {
        const password = "rds-like-master";
        await client.query(`DO $$ BEGIN CREATE ROLE ${admin} LOGIN CREATEROLE NOSUPERUSER PASSWORD '${password}'; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
        await client.query("DO $$ BEGIN CREATE ROLE rds_iam NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
        await client.query(`GRANT rds_iam TO ${admin} WITH ADMIN OPTION`);
        await client.query(`CREATE DATABASE ${database} OWNER ${admin}`);
        const url = new URL(superuserUrl);
        url.username = admin;
        url.password = password;
        url.pathname = `/${database}`;
        return url.toString();
    } finally {
        await client.end();
    }
}

/**
 * Lets `roles` sign in to the embedded PostgreSQL in `dataDir` from this machine without a
 * password, as IAM authentication lets them in on Aurora: a real IAM login cannot be made here, so
 * the token the functions sign is not checked (its form is, in tests/runtime/rds-auth-token.test.ts).
 */
export async function trustRoles(adminUrl: string, dataDir: string, roles: readonly string[]): Promise<void> {
    const file = path.join(dataDir, "pg_hba.conf");
    const lines = roles.map((role) => `host all ${role} 127.0.0.1/32 trust`);
    fs.writeFileSync(file, `${lines.join("\n")}\n${fs.readFileSync(file, "utf8")}`);
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
        await client.query("SELECT pg_reload_conf()");
    } finally {
        await client.end();
    }
    // The server reloads a moment after the signal. Until then a role is asked for its password;
    // after, it gets in, or (not created yet) is told it does not exist, which only trust reveals.
    const probe = Object.assign(new URL(adminUrl), { username: roles[0], password: "" }).toString();
    for (const deadline = Date.now() + 5_000; ; await new Promise((resolve) => setTimeout(resolve, 50))) {
        const attempt = new pg.Client({ connectionString: probe, password: "not-checked" });
        try {
            await attempt.connect();
            await attempt.end();
            return;
        } catch (error) {
            if (/role ".*" does not exist/.test((error as Error).message)) return;
            if (Date.now() > deadline) throw error;
        }
    }
}
