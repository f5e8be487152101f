/**
 * The floor the local gateway is compared with (`npm run bench:local`), in a process of its own:
 * a plain `node:http` server with nothing between the socket and the answer. `POST /auth` reads the
 * body and answers the JSON the `auth` sample answers; `GET /users/{id}` runs the SELECT the
 * `users` sample's read runs, with `pg` on the same database as the same login role
 * (`users_app`), over a pool as large as the gateway's container ceiling for that route, and
 * answers the row as JSON. No token check, no event, no wrapper, no access log.
 *
 *   bare-server.ts <data folder of the runtime's embedded PostgreSQL> <pool size>
 *
 * Prints `{"url": ...}` once listening.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as pg from "pg";
import { runningAdminUrl } from "../../local/postgres";
import { localLogin, loginSecretFile, readLoginSecret } from "../../local/service-login";

const AUTHENTICATED = JSON.stringify({ message: "User authenticated successfully" });
/** The `users` sample's read: the same columns, the same parameter. */
const READ_USER = `SELECT id, email, email_verified AS "emailVerified", name, created_at AS "createdAt", owner FROM users WHERE id = $1`;
const USER_PATH = /^\/users\/([^/?]+)$/;

function answer(response: http.ServerResponse, status: number, body: string): void {
    response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    response.end(body);
}

function main(): void {
    const [dataDir, poolSize] = process.argv.slice(2);
    const adminUrl = runningAdminUrl(dataDir);
    const secret = readLoginSecret(loginSecretFile(dataDir, true));
    if (!adminUrl || !secret) throw new Error(`No migrated PostgreSQL runs on ${dataDir}.`);
    const pool = new pg.Pool({ connectionString: localLogin(adminUrl, secret).serviceDatabaseUrl("users"), max: Number(poolSize) });
    const server = http.createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on("data", (chunk: Buffer) => chunks.push(chunk));
        request.on("end", () => {
            if (request.method === "POST" && request.url === "/auth") {
                JSON.parse(Buffer.concat(chunks).toString("utf8"));
                answer(response, 200, AUTHENTICATED);
                return;
            }
            const id = request.method === "GET" ? USER_PATH.exec(request.url ?? "")?.[1] : undefined;
            if (!id) {
                answer(response, 404, JSON.stringify({ message: "Not Found" }));
                return;
            }
            pool.query(READ_USER, [id]).then(
                ({ rows }) => {
                    if (rows.length === 0) return answer(response, 404, JSON.stringify({ message: "No user with this id." }));
                    const { owner: _owner, ...user } = rows[0];
                    answer(response, 200, JSON.stringify(user));
                },
                () => answer(response, 503, JSON.stringify({ message: "Service Unavailable" })),
            );
        });
    });
    server.keepAliveTimeout = 60_000;
    server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
    process.on("SIGTERM", () => {
        server.close();
        server.closeAllConnections();
        void pool.end().then(() => process.exit(0));
    });
}

main();
