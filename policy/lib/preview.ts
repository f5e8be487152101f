/**
 * The engine's unknown-checking proxy, for the offline engine (`tools/policy-engine.ts`) to hand
 * rules exactly what `pulumi preview` hands them: props whose unknown members throw
 * `UnknownValueError` when read. `@pulumi/policy/proxy` has no dependencies, so loading it does not
 * pull in the rest of the SDK; its declarations are stripped (`@internal`), hence the typed require.
 */
interface ProxyModule {
    unknownCheckingProxy<T extends object>(props: T): T;
    UnknownValueError: new (sentinel: string, path: string[]) => Error;
}

// eslint-disable-next-line @typescript-eslint/no-var-requires
const proxy: ProxyModule = require("@pulumi/policy/proxy");

export const unknownCheckingProxy = proxy.unknownCheckingProxy;
export const UnknownValueError = proxy.UnknownValueError;
