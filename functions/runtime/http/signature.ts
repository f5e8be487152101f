/**
 * Webhook signatures: a caller that cannot hold a token (a payment provider, a Git host) proves a
 * request is its own by an HMAC-SHA256 of the body under a key both sides hold, sent in a header as
 * `sha256=<hex>` (GitHub's `X-Hub-Signature-256` form). The key is one of the service's secrets.
 */
import * as crypto from "node:crypto";
import { unauthorized } from "../errors";
import type { ApiRequest } from "../service";

/** The header a signature arrives in unless a route says otherwise. */
export const SIGNATURE_HEADER = "x-signature-256";

/** `sha256=<hex>` of `body` under `key`: what a sender puts in the header. */
export function signBody(body: string, key: string): string {
    return `sha256=${crypto.createHmac("sha256", key).update(body, "utf8").digest("hex")}`;
}

/**
 * Throws a 401 unless the request's body carries a valid signature under `key` (compared in
 * constant time, so the answer's timing tells nothing of the expected value).
 */
export function assertSignedBody(request: ApiRequest, key: string, header: string = SIGNATURE_HEADER): void {
    const sent = request.headers[header.toLowerCase()];
    if (!sent) throw unauthorized(`The request has no ${header} header.`);
    const expected = Buffer.from(signBody(request.rawBody ?? "", key));
    const received = Buffer.from(sent);
    if (received.length !== expected.length || !crypto.timingSafeEqual(received, expected)) throw unauthorized(`The ${header} signature does not match the body.`);
}
