/**
 * A deployed function's secrets: its service's one Secrets Manager secret (a JSON object of names to
 * values), named by ARN in the function's environment, read with the SDK the Lambda runtime
 * already provides. Only functions of a service that declares secrets carry this code.
 */
import type * as secretsManager from "@aws-sdk/client-secrets-manager";
import { ENVIRONMENT, logLevelFromEnvironment, type Environment } from "../environment";
import { createLogger } from "../logger";
import { createServiceSecrets, parseSecretValues, type SecretSource, type ServiceSecrets, type ServiceSecretsOptions } from "./secrets";

// Loaded on first use: the AWS SDK is most of a cold start, and only functions with secrets need it.
const loadSecretsManager = (): typeof secretsManager => require("@aws-sdk/client-secrets-manager");

/** The part of the Secrets Manager client used here; tests pass a mocked client. */
export type SecretsClient = Pick<secretsManager.SecretsManagerClient, "send">;

/**
 * Reads the secret `secretArn` holds now (its `AWSCURRENT` version). A secret the program created
 * but nobody has put a value into yet has no version: that is "nothing set", not an error.
 */
export function secretsManagerSource(secretArn: string, client?: SecretsClient): SecretSource {
    return async () => {
        const sdk = loadSecretsManager();
        client ??= new sdk.SecretsManagerClient({});
        try {
            const output = await client.send(new sdk.GetSecretValueCommand({ SecretId: secretArn }));
            return output.SecretString === undefined ? undefined : parseSecretValues(output.SecretString, `Secret ${secretArn}`);
        } catch (error) {
            if ((error as { name?: string }).name === "ResourceNotFoundException") return undefined;
            throw error;
        }
    };
}

/** The service's secrets, read from the secret whose ARN the function's environment names. */
export function secretsFromEnvironment<Name extends string>(
    service: string,
    declared: readonly Name[],
    env: Environment = process.env,
    options: Partial<ServiceSecretsOptions> & { client?: SecretsClient } = {},
): ServiceSecrets<Name> {
    const secretArn = env[ENVIRONMENT.serviceSecretArn];
    if (!secretArn) throw new Error(`Service "${service}" declares secrets, but its secret is missing from the environment: ${ENVIRONMENT.serviceSecretArn}.`);
    const log = options.log ?? createLogger({ level: logLevelFromEnvironment(env), fields: { service } });
    return createServiceSecrets(service, declared, secretsManagerSource(secretArn, options.client), { ...options, log });
}
