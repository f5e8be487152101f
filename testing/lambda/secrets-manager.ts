/**
 * Secrets Manager, stood in for locally: an endpoint speaking its JSON protocol that knows the
 * embedded PostgreSQL's superuser credentials (as RDS keeps the master user's) and whatever service
 * secrets a test puts in `serviceSecrets` (ARN -> its JSON value; an ARN mapped to undefined is a
 * secret with no value yet, answered as Secrets Manager answers it). Functions reach it with the
 * real SDK client through `AWS_ENDPOINT_URL_SECRETS_MANAGER`.
 */
import * as http from "node:http";
import { listenOnLoopback } from "./loopback";
import { ENVIRONMENT } from "../../functions/runtime/environment";

/** The ARN the local endpoint answers for. */
export const LOCAL_SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-local-AbCdEf";

/** The secret's `{"username","password"}`: the user and password of a connection string. */
export function credentialsOf(connectionString: string): { username: string; password: string } {
    const url = new URL(connectionString);
    return { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
}

/** Starts the endpoint on a free loopback port, serving `credentials`; `requests` records every call it received. */
export function startSecretsEndpoint(
    credentials: { username: string; password: string },
    serviceSecrets: Map<string, string | undefined> = new Map(),
): Promise<{ url: string; requests: Array<{ target: string; secretId: string }>; close(): Promise<void> }> {
    const requests: Array<{ target: string; secretId: string }> = [];
    const server = http.createServer((request, response) => {
        let body = "";
        request.on("data", (chunk) => (body += chunk));
        request.on("end", () => {
            const target = String(request.headers["x-amz-target"] ?? "");
            const input = JSON.parse(body || "{}") as { SecretId?: string };
            requests.push({ target, secretId: String(input.SecretId) });
            response.setHeader("content-type", "application/x-amz-json-1.1");
            const secretId = String(input.SecretId);
            if (target === "secretsmanager.GetSecretValue" && serviceSecrets.has(secretId)) {
                const value = serviceSecrets.get(secretId);
                if (value === undefined) {
                    response.statusCode = 400;
                    response.end(JSON.stringify({ __type: "ResourceNotFoundException", message: "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT" }));
                    return;
                }
                response.end(JSON.stringify({ ARN: secretId, Name: secretId.split(":secret:")[1], SecretString: value, VersionId: "00000000-0000-0000-0000-000000000002", VersionStages: ["AWSCURRENT"], CreatedDate: Date.now() / 1000 }));
                return;
            }
            if (target !== "secretsmanager.GetSecretValue" || input.SecretId !== LOCAL_SECRET_ARN) {
                response.statusCode = 400;
                response.end(JSON.stringify({ __type: "ResourceNotFoundException", message: "Secrets Manager can't find the specified secret." }));
                return;
            }
            response.end(
                JSON.stringify({
                    ARN: LOCAL_SECRET_ARN,
                    Name: "rds!cluster-local",
                    SecretString: JSON.stringify(credentials),
                    VersionId: "00000000-0000-0000-0000-000000000001",
                    VersionStages: ["AWSCURRENT"],
                    CreatedDate: Date.now() / 1000,
                }),
            );
        });
    });
    return listenOnLoopback(server).then(({ url, close }) => ({ url, requests, close }));
}

/**
 * A value for every declared secret of the functions' services, by their secret's ARN (what an
 * operator would have put in): each `"placeholder-<NAME>"`, so an archive that reads its secrets
 * answers as it would once they are set.
 */
export function placeholderSecretValues(
    functions: ReadonlyArray<{ environment: Readonly<Record<string, string>> }>,
    declaredOf: (service: string) => readonly string[],
): Map<string, string> {
    const values = new Map<string, string>();
    for (const fn of functions) {
        const arn = fn.environment[ENVIRONMENT.serviceSecretArn];
        if (arn === undefined) continue;
        const declared = declaredOf(fn.environment[ENVIRONMENT.serviceName] ?? "");
        values.set(arn, JSON.stringify(Object.fromEntries(declared.map((name) => [name, `placeholder-${name}`]))));
    }
    return values;
}
