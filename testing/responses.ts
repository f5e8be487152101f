/**
 * Holds a route's answers to what it declares in `responses`, for the samples' tests: a success
 * (below 400) must have its status described and, when the description gives a body, a body that
 * check takes (none, when it gives none); an error is either described likewise or carries the
 * platform's error shape (`{"error":{"code","message","requestId"}}`, `functions/runtime/errors.ts`).
 */
import type { RouteResponses } from "../functions/runtime/service";
import { describeIssues, type Issue } from "../functions/runtime/validate";

export interface AnsweredResponse {
    status: number;
    /** The body as JSON parsed it; undefined when there was none. */
    body: unknown;
}

const isPlatformError = (body: unknown): boolean => {
    const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    return typeof error?.code === "string" && typeof error.message === "string";
};

/** What is wrong with `answer` against `responses`: nothing when it is an answer they describe. */
export function responseProblems(responses: RouteResponses, answer: AnsweredResponse): string[] {
    const described = responses[answer.status];
    if (!described) {
        if (answer.status >= 400 && isPlatformError(answer.body)) return [];
        return [`status ${answer.status} is not among the declared responses (${Object.keys(responses).join(", ")})`];
    }
    if (!described.body) {
        return answer.body === undefined || answer.body === "" || (answer.status >= 400 && isPlatformError(answer.body)) ? [] : [`status ${answer.status} declares no body, but one came`];
    }
    const outcome = described.body(answer.body, "json");
    if (outcome.ok) return [];
    const issues: Issue[] = outcome.issues ?? [{ field: "body", problem: outcome.problem }];
    return [`the ${answer.status} body does not match its declaration: ${describeIssues(issues)}`];
}

/** Throws, naming the route and every problem, unless `answer` is one of the route's declared responses. */
export function assertDeclaredResponse(routeKey: string, responses: RouteResponses, answer: AnsweredResponse): void {
    const problems = responseProblems(responses, answer);
    if (problems.length > 0) throw new Error(`${routeKey} answered what it does not declare: ${problems.join("; ")}`);
}
