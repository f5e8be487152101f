/**
 * A role's password as PostgreSQL stores it for `scram-sha-256` (RFC 5802 and 7677):
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`. `ALTER ROLE ... PASSWORD '<this>'`
 * stores it as given, and the role signs in with the password as before; the statement itself,
 * which `log_statement = ddl` writes to the server's log, carries no password.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";

/** PostgreSQL's own defaults (`scram_iterations`, and the salt length it generates). */
const ITERATIONS = 4096;
const SALT_BYTES = 16;

/** Printable ASCII: what SASLprep, which PostgreSQL applies to a password first, leaves as it is. */
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

/** The verifier of `password`; the salt is random unless given (tests). */
export function scramSha256Verifier(password: string, options: { salt?: Buffer; iterations?: number } = {}): string {
    if (!PRINTABLE_ASCII.test(password)) throw new Error("A SCRAM verifier is only computed here for a printable ASCII password (SASLprep would change another).");
    const salt = options.salt ?? randomBytes(SALT_BYTES);
    const iterations = options.iterations ?? ITERATIONS;
    const salted = pbkdf2Sync(password, salt, iterations, 32, "sha256");
    const clientKey = createHmac("sha256", salted).update("Client Key").digest();
    const storedKey = createHash("sha256").update(clientKey).digest();
    const serverKey = createHmac("sha256", salted).update("Server Key").digest();
    return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}
