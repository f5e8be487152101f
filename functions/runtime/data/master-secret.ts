/**
 * The master user's sign-in for the migration run: the cluster's RDS-managed master secret, read
 * from Secrets Manager by the migration launcher (outside the VPC), which passes it to the worker.
 * No other function reads it (the policy pack's `db-master-secret-migration-only` keeps it so),
 * and route functions do not even carry this code: they sign in with IAM tokens.
 */
import type * as secretsManager from "@aws-sdk/client-secrets-manager";
import type { CredentialSource, Credentials } from "./database";

// Loaded on first use: the AWS SDK is most of a cold start, and only the launcher needs it.
const loadSecretsManager = (): typeof secretsManager => require("@aws-sdk/client-secrets-manager");

/** The part of the Secrets Manager client used here; tests pass a mocked client. */
export type SecretsReader = Pick<secretsManager.SecretsManagerClient, "send">;

/**
 * Fetches the RDS-managed secret (`{"username","password"}`) once and caches it; `refresh()` drops
 * the cache so the next read fetches the rotated value (during a rotation a new connection may
 * still be refused the old one).
 */
export function createSecretCredentials(secretArn: string, client?: SecretsReader): Required<CredentialSource> {
    let cached: Promise<Credentials> | undefined;
    const fetchCredentials = async (): Promise<Credentials> => {
        const sdk = loadSecretsManager();
        const output = await (client ?? new sdk.SecretsManagerClient({})).send(new sdk.GetSecretValueCommand({ SecretId: secretArn }));
        const parsed = JSON.parse(output.SecretString ?? "{}") as Partial<Credentials>;
        if (typeof parsed.username !== "string" || typeof parsed.password !== "string") {
            throw new Error(`Secret ${secretArn} has no username and password.`);
        }
        return { username: parsed.username, password: parsed.password };
    };
    return {
        get(): Promise<Credentials> {
            cached ??= fetchCredentials().catch((error) => {
                cached = undefined; // a failed fetch must not poison the cache
                throw error;
            });
            return cached;
        },
        refresh(): void {
            cached = undefined;
        },
    };
}
