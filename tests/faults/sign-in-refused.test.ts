/**
 * Sign-ins refused for a while, as IAM database authentication refuses them during a burst (about
 * 200 new connections a second) or while a role's grant spreads right after a deploy: the real
 * PostgreSQL refuses the service's login role (NOLOGIN, SQLSTATE 28000) until the test lets it in
 * again, after a given number of refused sign-ins. A request whose retries outlast the refusal
 * gets its 200; one whose retries run out first gets a clean 503 `database_unavailable`, never a
 * 500. Counted in sign-ins, not in time: the retries' waits are shortened for the test.
 */
import * as assert from "node:assert/strict";
import { createDatabase, type CredentialSource } from "../../functions/runtime/data/database";
import notes from "../../testing/fixtures/services/notes/service";
import { routeCaller } from "../support/invoke";
import { usePostgres } from "../support/postgres";

const ROLE = "notes_app";
const SIGN_IN_RETRY = { attempts: 4, firstDelayMs: 2 };

describe("faults: sign-ins refused for a while (SQLSTATE 28000)", function () {
    this.timeout(60_000);
    const postgres = usePostgres({ services: [notes] });

    /** The service's credentials, which let the role in again at the `admitAt`-th sign-in; counts the sign-ins. */
    function signIns(admitAt: number): CredentialSource & { count: () => number } {
        let count = 0;
        return {
            count: () => count,
            async get() {
                count++;
                if (count === admitAt) await postgres().sql(`ALTER ROLE ${ROLE} LOGIN`);
                return { username: ROLE, password: postgres().login.passwordOf(ROLE) };
            },
        };
    }

    /** The notes route through the function wrapper, on a database signed in to with `credentials`. */
    async function listNotes(credentials: CredentialSource) {
        const database = new URL(postgres().serviceUrl(notes.name)).pathname.slice(1);
        const db = createDatabase({ host: "127.0.0.1", port: postgres().server.port, database, credentials, tls: false, signInRetry: SIGN_IN_RETRY });
        try {
            return await routeCaller(notes, () => db)("GET /notes");
        } finally {
            await db.end();
        }
    }

    beforeEach(() => postgres().sql(`ALTER ROLE ${ROLE} NOLOGIN`));
    afterEach(() => postgres().sql(`ALTER ROLE ${ROLE} LOGIN`));

    it("answers 200 when the refusal ends before the sign-in retries run out", async () => {
        // Prepare: refused three times, let in at the fourth and last sign-in.
        const credentials = signIns(SIGN_IN_RETRY.attempts);
        // Act
        const answer = await listNotes(credentials);
        // Assess
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        assert.equal(credentials.count(), SIGN_IN_RETRY.attempts);
    });

    it("answers 503 database_unavailable, not 500, when the refusal outlasts the retries", async () => {
        // Prepare: let in only after the retries have run out.
        const credentials = signIns(SIGN_IN_RETRY.attempts + 1);
        // Act
        const answer = await listNotes(credentials);
        // Assess
        assert.equal(answer.status, 503, JSON.stringify(answer.body));
        assert.equal(answer.body.error.code, "database_unavailable");
        assert.equal(answer.headers["retry-after"], "1");
        assert.equal(credentials.count(), SIGN_IN_RETRY.attempts);
    });
});
