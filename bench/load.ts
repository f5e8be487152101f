/**
 * `npm run load`: a load test of the local runtime. Each concurrent client is a user of the
 * `users` sample with a token of its own (a user record belongs to the token subject that created
 * it, one per subject): it creates its user, then renames and reads it, over a keep-alive
 * connection; at the end it prints throughput, latency percentiles and errors, and checks that the
 * users table grew by exactly the creates the API acknowledged and that each user holds the last
 * name the API acknowledged for it (no lost and no phantom writes). Exits non-zero on any error
 * or mismatch.
 *
 * Flags:
 *   --clients N        concurrent clients, each a user with one connection (default 50)
 *   --requests N       requests PER CLIENT (default 2000: 50 x 2000 = 100,000 requests)
 *   --write-ratio R    share of requests that rename the client's user, 0-1 (default 0.2); every
 *                      client's first request creates its user, the others read it
 *   --max-seconds S    stop issuing requests after S seconds and fail (default 600)
 *   --url URL          test a runtime that is already running (loopback only) instead of starting
 *                      one; the row check then needs --database-url or DATABASE_URL
 *   --database-url URL the PostgreSQL behind --url
 *
 * The tokens are minted by the local issuer (with --url, from the key in LOCAL_JWT_DIR or
 * .data/jwt, as `npm start` uses).
 *
 * Without --url it starts `local/start.ts --quiet` as a separate process (as `npm start` runs) on
 * a free port, over a fresh embedded PostgreSQL in a temporary directory, with its own local token
 * issuer there and LOCAL_THROTTLING=off (POST /users allows 20 creates/s locally as in the cloud;
 * this measures the runtime, not the throttle), and stops both after. With --url, start that
 * runtime with LOCAL_THROTTLING=off too, or the creates beyond the throttle count as errors.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { services } from "../infra/services";
import { placeholderSecretsFile } from "../testing/local-secrets";
import * as pg from "pg";
import { jwtDirFromEnv, loadOrCreateSigningKey, mintLocalToken } from "../local/issuer";
import { freePort, runningAdminUrl } from "../local/postgres";
import { TYPESCRIPT_LOADER_ARGS } from "../tools/typescript-loader";

interface Options {
    clients: number;
    requests: number;
    writeRatio: number;
    maxSeconds: number;
    url?: string;
    databaseUrl?: string;
}

const REPOSITORY_ROOT = path.resolve(__dirname, "..");

function parseOptions(argv: string[]): Options {
    const values = new Map<string, string>();
    for (let index = 0; index < argv.length; index++) {
        const flag = argv[index];
        if (!flag.startsWith("--")) throw new Error(`Unexpected argument ${flag}.`);
        const [name, inline] = flag.slice(2).split("=", 2);
        values.set(name, inline ?? argv[++index] ?? "");
    }
    const known = ["clients", "requests", "write-ratio", "max-seconds", "url", "database-url"];
    for (const name of values.keys()) if (!known.includes(name)) throw new Error(`Unknown flag --${name}; known: ${known.map((k) => `--${k}`).join(", ")}.`);
    const integer = (name: string, fallback: number, max: number) => {
        const raw = values.get(name);
        const value = raw === undefined ? fallback : Number(raw);
        if (!Number.isInteger(value) || value < 1 || value > max) throw new Error(`--${name} must be an integer from 1 to ${max}.`);
        return value;
    };
    const writeRatio = values.has("write-ratio") ? Number(values.get("write-ratio")) : 0.2;
    if (!(writeRatio >= 0 && writeRatio <= 1)) throw new Error("--write-ratio must be a number from 0 to 1.");
    const url = values.get("url");
    if (url !== undefined && !["127.0.0.1", "localhost", "[::1]"].includes(new URL(url).hostname)) {
        throw new Error(`--url must point at this machine (127.0.0.1, localhost or [::1]); got ${url}.`);
    }
    return {
        clients: integer("clients", 50, 1000),
        requests: integer("requests", 2000, 100_000),
        writeRatio,
        maxSeconds: integer("max-seconds", 600, 3600),
        url,
        databaseUrl: values.get("database-url") ?? (url ? process.env.DATABASE_URL : undefined),
    };
}

/** Starts the runtime as `npm start` would, quietly; its URL from what it prints, its database's from its data folder. */
async function startServer(): Promise<{ url: string; databaseUrl: string; jwtDir: string; child: ChildProcess; cleanup(): Promise<void> }> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "load-"));
    fs.chmodSync(dataDir, 0o755); // PostgreSQL runs as its own user when we are root
    const port = await freePort();
    const jwtDir = path.join(dataDir, "jwt");
    const postgresDir = path.join(dataDir, "postgres");
    const child = spawn(process.execPath, [...TYPESCRIPT_LOADER_ARGS, "local/start.ts", "--quiet"], {
        cwd: REPOSITORY_ROOT,
        env: {
            ...process.env,
            PORT: String(port),
            LOCAL_DATA_DIR: postgresDir,
            // The registry's declared secrets, set (npm start refuses unset ones).
            LOCAL_SECRETS_FILE: placeholderSecretsFile(dataDir, services),
            LOG_LEVEL: "ERROR",
            DATABASE_URL: "",
            // Its own issuer (the tokens below are minted with the same key) and no throttling.
            LOCAL_JWT_DIR: jwtDir,
            JWT_ISSUER: "",
            JWT_AUDIENCE: "",
            JWT_JWKS_URL: "",
            LOCAL_THROTTLING: "off",
        },
        stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const ready = new Promise<{ url: string; databaseUrl: string }>((resolve, reject) => {
        const onData = (chunk: Buffer) => {
            output += chunk;
            const url = /Ready on (\S+) in/.exec(output)?.[1];
            const databaseUrl = url ? runningAdminUrl(postgresDir) : undefined;
            if (url && databaseUrl) resolve({ url, databaseUrl });
        };
        child.stdout!.on("data", onData);
        child.stderr!.on("data", onData);
        child.on("exit", (code) => reject(new Error(`The local runtime exited with ${code} before it was ready:\n${output}`)));
    });
    const cleanup = async () => {
        if (child.exitCode === null) {
            const exited = new Promise((resolve) => child.on("exit", resolve));
            child.kill("SIGTERM");
            await exited;
        }
        fs.rmSync(dataDir, { recursive: true, force: true });
    };
    try {
        return { ...(await ready), jwtDir, child, cleanup };
    } catch (error) {
        await cleanup();
        throw error;
    }
}

interface Reply {
    status: number;
    body: string;
}

function send(agent: http.Agent, base: URL, method: string, path: string, body?: string, authorization?: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
        const headers: http.OutgoingHttpHeaders = body === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(body) };
        if (authorization) headers.authorization = authorization;
        const req = http.request({ agent, host: base.hostname, port: base.port, method, path, headers }, (res) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (chunk: string) => (text += chunk));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
            res.on("error", reject);
        });
        req.on("error", reject);
        req.end(body);
    });
}

interface ClientResult {
    latenciesMs: number[];
    creates: number;
    renames: number;
    reads: number;
    errors: string[];
    /** The client's user and the last name the API acknowledged for it. */
    user?: { id: string; name: string };
}

/** One client, one user: its own token and keep-alive connection, requests one after another. */
async function runClient(client: number, options: Options, base: URL, runId: string, deadline: number, authorization: string): Promise<ClientResult> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const result: ClientResult = { latenciesMs: [], creates: 0, renames: 0, reads: 0, errors: [] };
    try {
        for (let n = 0; n < options.requests; n++) {
            if (Date.now() > deadline) {
                result.errors.push(`client ${client}: stopped by --max-seconds after ${n} requests`);
                break;
            }
            const user = result.user;
            const action = !user ? "POST /users" : Math.random() < options.writeRatio ? "PATCH /users/{id}" : "GET /users/{id}";
            const name = `Load ${client}.${n}`;
            const started = process.hrtime.bigint();
            try {
                if (!user) {
                    const reply = await send(agent, base, "POST", "/users", JSON.stringify({ email: `load-${runId}-${client}@example.com`, name }), authorization);
                    if (reply.status === 201) {
                        result.user = { id: (JSON.parse(reply.body) as { id: string }).id, name };
                        result.creates++;
                    } else {
                        result.errors.push(`POST /users -> ${reply.status} ${reply.body.slice(0, 200)}`);
                    }
                } else if (action === "PATCH /users/{id}") {
                    const reply = await send(agent, base, "PATCH", `/users/${user.id}`, JSON.stringify({ name }), authorization);
                    if (reply.status === 200) {
                        user.name = name;
                        result.renames++;
                    } else {
                        result.errors.push(`PATCH /users/${user.id} -> ${reply.status} ${reply.body.slice(0, 200)}`);
                    }
                } else {
                    const reply = await send(agent, base, "GET", `/users/${user.id}`, undefined, authorization);
                    // Anything but the last acknowledged name would be a write the API acknowledged and then lost.
                    const read = reply.status === 200 ? (JSON.parse(reply.body) as { id: string; name: string }) : undefined;
                    if (read?.id === user.id && read.name === user.name) result.reads++;
                    else result.errors.push(`GET /users/${user.id} -> ${reply.status} ${reply.body.slice(0, 200)} (expected the name ${JSON.stringify(user.name)})`);
                }
            } catch (error) {
                result.errors.push(`${action}: ${(error as Error).message}`);
            }
            result.latenciesMs.push(Number(process.hrtime.bigint() - started) / 1e6);
        }
    } finally {
        agent.destroy();
    }
    return result;
}

function percentile(sorted: Float64Array, p: number): number {
    if (sorted.length === 0) return NaN;
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function countUsers(databaseUrl: string): Promise<number> {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
        return Number((await client.query("SELECT count(*) AS n FROM users.users")).rows[0].n);
    } finally {
        await client.end();
    }
}

/** The users whose stored name is not the last one the API acknowledged for them. */
async function usersWithLostRenames(databaseUrl: string, users: readonly { id: string; name: string }[]): Promise<number> {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
        const { rows } = await client.query<{ id: string; name: string }>("SELECT id, name FROM users.users WHERE id = ANY($1::uuid[])", [users.map((user) => user.id)]);
        const stored = new Map(rows.map((row) => [row.id, row.name]));
        return users.filter((user) => stored.get(user.id) !== user.name).length;
    } finally {
        await client.end();
    }
}

async function main(): Promise<number> {
    const options = parseOptions(process.argv.slice(2));
    const server = options.url ? undefined : await startServer();
    try {
        const url = options.url ?? server!.url;
        const databaseUrl = options.databaseUrl ?? server?.databaseUrl;
        const total = options.clients * options.requests;
        console.log(
            `Load test: ${options.clients} clients x ${options.requests} requests each = ${total} requests, ` +
                `one user each, ~${Math.round(options.writeRatio * 100)}% renames, against ${url}${server ? " (started for this run)" : ""}`,
        );
        const rowsBefore = databaseUrl ? await countUsers(databaseUrl) : undefined;
        // A token per client (its user is its subject's), valid longer than --max-seconds; minted before the clock starts.
        const runId = randomBytes(4).toString("hex");
        const key = await loadOrCreateSigningKey(server?.jwtDir ?? jwtDirFromEnv(process.env));
        const authorizations = await Promise.all(
            Array.from({ length: options.clients }, async (_, client) => `Bearer ${await mintLocalToken({ sub: `load-${runId}-${client}`, expiresIn: `${options.maxSeconds + 600}s`, key })}`),
        );

        const started = Date.now();
        const deadline = started + options.maxSeconds * 1000;
        const results = await Promise.all(Array.from({ length: options.clients }, (_, client) => runClient(client, options, new URL(url), runId, deadline, authorizations[client])));
        const elapsedS = (Date.now() - started) / 1000;

        const latencies = Float64Array.from(results.flatMap((result) => result.latenciesMs)).sort();
        const creates = results.reduce((sum, result) => sum + result.creates, 0);
        const renames = results.reduce((sum, result) => sum + result.renames, 0);
        const reads = results.reduce((sum, result) => sum + result.reads, 0);
        const errors = results.flatMap((result) => result.errors);
        const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

        console.log(`requests   ${latencies.length} in ${elapsedS.toFixed(1)} s = ${Math.round(latencies.length / elapsedS)} requests/s`);
        console.log(`latency    p50 ${fmt(percentile(latencies, 50))}  p90 ${fmt(percentile(latencies, 90))}  p99 ${fmt(percentile(latencies, 99))}  max ${fmt(latencies[latencies.length - 1] ?? NaN)}`);
        console.log(`answered   ${creates} creates (201), ${renames} renames (200), ${reads} reads (200, each the last acknowledged name)`);
        console.log(`errors     ${errors.length}`);
        for (const error of errors.slice(0, 10)) console.log(`  ${error}`);

        let lostWrites = 0;
        if (databaseUrl && rowsBefore !== undefined) {
            const grew = (await countUsers(databaseUrl)) - rowsBefore;
            const lostRenames = await usersWithLostRenames(databaseUrl, results.flatMap((result) => (result.user ? [result.user] : [])));
            lostWrites = Math.abs(creates - grew) + lostRenames;
            console.log(`rows       users grew by ${grew}; acknowledged creates ${creates}: ${grew === creates ? "OK" : "MISMATCH"}; users not holding their last acknowledged name: ${lostRenames}`);
        } else {
            console.log("rows       not checked: give --database-url (or DATABASE_URL) with --url");
        }
        const ok = errors.length === 0 && lostWrites === 0 && latencies.length === total;
        console.log(ok ? "PASS" : "FAIL");
        return ok ? 0 : 1;
    } finally {
        await server?.cleanup();
    }
}

main().then(
    (code) => process.exit(code),
    (error) => {
        console.error(error instanceof Error ? error.message : error);
        process.exit(2);
    },
);
