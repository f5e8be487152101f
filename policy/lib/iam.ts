/**
 * Reading IAM policy documents and managed-policy ARNs.
 *
 * Documents arrive as JSON strings (`JSON.stringify`, `pulumi.jsonStringify`) or as objects, with
 * `Statement` and `Action` as a single value or a list. A document that depends on an unknown
 * output is a single unknown value during preview and is skipped.
 */
import type { CheckedResource } from "./rule";
import { Types } from "./types";
import { isUnknown } from "./unknown";

export interface Statement {
    Sid?: string;
    Effect?: string;
    Action?: string | string[];
    NotAction?: string | string[];
    [key: string]: unknown;
}

export type ParsedDocument =
    | { kind: "unknown" }
    | { kind: "invalid"; reason: string }
    | { kind: "document"; statements: Statement[] };

/** Parses a policy document without throwing. */
export function parsePolicyDocument(policy: unknown): ParsedDocument {
    if (policy === undefined || policy === null || isUnknown(policy)) {
        return { kind: "unknown" };
    }
    let doc: unknown = policy;
    if (typeof policy === "string") {
        try {
            doc = JSON.parse(policy);
        } catch (e) {
            return { kind: "invalid", reason: "it is not valid JSON" };
        }
    }
    if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
        return { kind: "invalid", reason: "it is not a JSON object" };
    }
    const statement = (doc as Record<string, unknown>).Statement;
    if (isUnknown(statement)) {
        return { kind: "unknown" };
    }
    const list = statement === undefined ? [] : Array.isArray(statement) ? statement : [statement];
    const statements = list.filter((s): s is Statement => s !== null && typeof s === "object" && !isUnknown(s));
    return { kind: "document", statements };
}

/**
 * The permission documents a resource carries, with how to name each in a message: a policy
 * resource's `policy`, or each of a role's `inlinePolicies`.
 */
export function permissionDocumentsOf({ type, props }: CheckedResource): { label: string; policy: unknown }[] {
    if (type !== Types.iamRole) {
        return [{ label: "Policy", policy: props.policy }];
    }
    const inline = Array.isArray(props.inlinePolicies) ? props.inlinePolicies : [];
    return inline
        .filter((p: unknown) => p !== null && typeof p === "object" && !isUnknown(p))
        .map((p: any, i: number) => ({ label: `Inline policy ${isUnknown(p.name) || p.name === undefined ? i + 1 : JSON.stringify(p.name)}`, policy: p.policy }));
}

/** A statement's `Action`, `NotAction`, `Resource` or `NotResource` (one value or a list) as a list of known strings. */
export function stringList(value: unknown): string[] {
    const list = Array.isArray(value) ? value : [value];
    return list.filter((a): a is string => typeof a === "string" && !isUnknown(a));
}

/** How a statement is named in messages: its Sid, else its position. */
export function statementLabel(statement: Statement, index: number): string {
    return typeof statement.Sid === "string" && statement.Sid !== "" ? `statement "${statement.Sid}"` : `statement ${index + 1}`;
}

const AWS_MANAGED_POLICY = /^arn:aws[a-z-]*:iam::aws:policy\/(?:.*\/)?([^/]+)$/;

/** The name of an AWS-managed policy (`arn:aws:iam::aws:policy/<path>/<name>`), or `undefined` for any other ARN. */
export function awsManagedPolicyName(arn: unknown): string | undefined {
    if (typeof arn !== "string" || isUnknown(arn)) {
        return undefined;
    }
    return AWS_MANAGED_POLICY.exec(arn)?.[1];
}

/**
 * The name of an AWS-managed policy that grants a whole service or everything (AdministratorAccess*,
 * PowerUserAccess, *FullAccess*), or `undefined` for any other ARN.
 */
export function broadManagedPolicyName(arn: unknown): string | undefined {
    const name = awsManagedPolicyName(arn);
    if (name === undefined) {
        return undefined;
    }
    const broad = name.startsWith("AdministratorAccess") || name === "PowerUserAccess" || name.includes("FullAccess");
    return broad ? name : undefined;
}

/** IAM's wildcards: `*` matches any run of characters (none included), `?` one. Actions compare without case. */
export function iamPatternMatches(pattern: string, value: string, ignoreCase = false): boolean {
    const regex = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
    return new RegExp(`^${regex}$`, ignoreCase ? "i" : "").test(value);
}
