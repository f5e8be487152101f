/**
 * The file of the code that called a declaring function (`defineEvents`, `defineService`), from
 * V8's structured call sites: what a mistake in a declaration is reported with, and where the
 * files that belong to it (an event schema record) live.
 */

/** The file of the function that called `declarer`; undefined when V8 cannot tell. */
export function callerFile(declarer: Function): string | undefined {
    const { prepareStackTrace, stackTraceLimit } = Error;
    try {
        Error.stackTraceLimit = 1;
        Error.prepareStackTrace = (_error, callSites) => callSites;
        const holder: { stack?: NodeJS.CallSite[] } = {};
        Error.captureStackTrace(holder, declarer);
        return holder.stack?.[0]?.getFileName() ?? undefined;
    } catch {
        return undefined;
    } finally {
        Error.prepareStackTrace = prepareStackTrace;
        Error.stackTraceLimit = stackTraceLimit;
    }
}
