/**
 * How a Lambda function's code becomes its archive: Pulumi serializes the function's closure (its
 * own handler and the runtime helpers it references, never the registry), and esbuild bundles that
 * text with the packages it loads into one minified CommonJS file, `__index.js`, the archive's only
 * file. Measured by `npm run bench`; loaded and invoked the way the Lambda Node.js runtime does it
 * by `tests/artifacts`.
 *
 * Bundling runs where the program runs (`pulumi preview`/`up`), with esbuild from the project's
 * devDependencies; nothing of it reaches Lambda.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type * as esbuild from "esbuild";
import { BUNDLE_CACHE_VARIABLE, bundleCacheKey, keepBundle, keptBundle } from "./bundle-cache";
import { LAMBDA_RUNTIME } from "./components/function-settings";
import { lambdaCode, type FunctionUse } from "../functions/runtime/entry/lambda";
import type { ResourcesProvider } from "../functions/runtime/entry/resources";
import { REPOSITORY_ROOT } from "../platform/config/stack-files";
import { valueKey } from "../platform/value-key";

/** The runtime loads `__index.js` from the archive's root and calls its export `handler`. */
export const HANDLER_MODULE = "__index";
export const HANDLER_EXPORT = "handler";
export const HANDLER_FILE = `${HANDLER_MODULE}.js`;
export const LAMBDA_HANDLER = `${HANDLER_MODULE}.${HANDLER_EXPORT}`;

/**
 * Left out of every bundle, as `require` calls the runtime resolves: the AWS SDK v3, which the
 * Node.js runtime provides in /var/runtime/node_modules (a smaller archive and a faster cold start,
 * at the price of running on the runtime's SDK version, which AWS updates with the runtime; we use
 * one stable call, `GetSecretValue`).
 */
export const RUNTIME_PROVIDED_PACKAGES = ["@aws-sdk/*"];

/**
 * Optional add-ons a bundled package loads only on request, left out too: `pg` requires its native
 * binding `pg-native` only when `pg.native` is read, which no handler does.
 */
const OPTIONAL_ADDONS = ["pg-native"];

/** The first line of every function's `__index.js`: what it holds, for anyone reading a deployed function. */
const BANNER_PREFIX = "// Bundled packages: ";

/** A package whose code went into a bundle. */
export interface BundledPackage {
    name: string;
    version: string;
    /** Its folder, relative to the project root, e.g. `node_modules/pg`. */
    folder: string;
}

export interface Bundle {
    /** The bundled module's source. */
    text: string;
    /** Every package with code in it, sorted by folder. */
    packages: BundledPackage[];
}

/** What to bundle: module source held in memory (a serialized closure), or a file. */
export type BundleEntry = { contents: string; sourcefile: string } | { file: string };

/** `nodejs24.x` -> `node24`: esbuild keeps every syntax the runtime's Node understands. */
export function bundleTarget(runtime: string = LAMBDA_RUNTIME): string {
    const match = /^nodejs(\d+)\.x$/.exec(runtime);
    if (!match) throw new Error(`Lambda runtime "${runtime}" is not a Node.js runtime (nodejs<major>.x).`);
    return `node${match[1]}`;
}

/**
 * A handler that reaches a `@pulumi/*` package at run time would bundle the whole engine client
 * and then fail outside a deployment; Pulumi values belong in the function's settings.
 */
const noPulumiAtRunTime: esbuild.Plugin = {
    name: "no-pulumi-at-run-time",
    setup(build) {
        build.onResolve({ filter: /^@pulumi\// }, (args) => ({
            errors: [
                {
                    text:
                        `the code loads "${args.path.split("/").slice(0, 2).join("/")}": a handler must not use Pulumi values at run time; ` +
                        "pass resource ids through the function's environment variables",
                },
            ],
        }));
    },
};

function loadEsbuild(): typeof esbuild {
    try {
        return require("esbuild") as typeof esbuild;
    } catch (error) {
        throw new Error(
            `Bundling function code needs the esbuild package, a devDependency of this project: run \`npm ci\` (without --omit=dev). (${(error as Error).message})`,
        );
    }
}

/**
 * Bundles `entry` and the packages it requires, resolved from the project's node_modules, into one
 * CommonJS module for the runtime's Node. Identifiers keep their names, so the function's stack
 * traces stay readable without a source map; whitespace and syntax are minified.
 */
export async function bundle(entry: BundleEntry, external: readonly string[] = [...RUNTIME_PROVIDED_PACKAGES, ...OPTIONAL_ADDONS]): Promise<Bundle> {
    const builder = loadEsbuild();
    const options = {
        ...("file" in entry
            ? { entryPoints: [entry.file] }
            : { stdin: { contents: entry.contents, sourcefile: entry.sourcefile, resolveDir: REPOSITORY_ROOT, loader: "js" as const } }),
        absWorkingDir: REPOSITORY_ROOT,
        outfile: HANDLER_FILE,
        bundle: true,
        platform: "node" as const,
        // Pulumi's serialized closures use `with`, which only sloppy-mode CommonJS allows.
        format: "cjs" as const,
        target: bundleTarget(),
        external: [...external],
        minifyWhitespace: true,
        minifySyntax: true,
        legalComments: "none" as const,
        metafile: true as const,
        write: false as const,
        logLevel: "silent" as const,
        plugins: [noPulumiAtRunTime],
    };
    const cache = process.env[BUNDLE_CACHE_VARIABLE];
    const key = cache ? bundleCacheKey(builder.version, { ...options, plugins: options.plugins.map((plugin) => plugin.name) }) : "";
    const kept = cache ? keptBundle<Bundle>(cache, key) : undefined;
    if (kept) return kept;
    let result: esbuild.BuildResult<{ metafile: true; write: false }>;
    try {
        result = await builder.build(options);
    } catch (error) {
        // Positions are left out: they point into generated text, and without them repeats collapse.
        const messages = (error as { errors?: esbuild.Message[] }).errors?.map((message) => message.text) ?? [(error as Error).message];
        throw new Error([...new Set(messages)].join("; "));
    }
    const output = result.outputFiles.find((file) => file.path.endsWith(".js"));
    if (!output) throw new Error("esbuild produced no JavaScript output.");
    const inputs = Object.keys(result.metafile.inputs);
    const bundled = { text: output.text, packages: bundledPackages(inputs) };
    // The packages' manifests too: the banner names their versions.
    if (cache) keepBundle(cache, key, bundled, [...inputs, ...bundled.packages.map((p) => path.join(p.folder, "package.json"))]);
    return bundled;
}

/** The packages behind esbuild's input paths (`node_modules/a/node_modules/b/x.js` belongs to `b`). */
function bundledPackages(inputs: readonly string[]): BundledPackage[] {
    const folders = new Set<string>();
    for (const input of inputs) {
        const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input.split(path.sep).join("/"));
        if (match) folders.add(match[1]);
    }
    return [...folders].sort().map((folder) => {
        const manifest = JSON.parse(fs.readFileSync(path.join(REPOSITORY_ROOT, folder, "package.json"), "utf8")) as { name: string; version: string };
        return { name: manifest.name, version: manifest.version, folder };
    });
}

/** The banner line naming what a function's `__index.js` holds. */
function banner(packages: readonly BundledPackage[]): string {
    return BANNER_PREFIX + (packages.length === 0 ? "none" : packages.map((p) => `${p.name}@${p.version}`).join(", "));
}

/** The packages a function's `__index.js` says it holds (`name@version`), read from its banner. */
export function bundledPackagesOf(source: string): string[] {
    const firstLine = source.slice(0, source.indexOf("\n"));
    if (!firstLine.startsWith(BANNER_PREFIX)) throw new Error(`${HANDLER_FILE} does not start with "${BANNER_PREFIX.trim()}".`);
    const list = firstLine.slice(BANNER_PREFIX.length);
    return list === "none" ? [] : list.split(", ");
}

/** Same closure, same bundle: the program runs once per stack and tests run it many times in one process. */
const bundles = new Map<string, Promise<Bundle>>();

/** What determines each identified factory's code (`identifiedCode`), as a `valueKey`. */
const codeDeterminants = new WeakMap<Function, string>();
/** Serialized closures by what determined them: the same inputs serialize to the same text. */
const serializedByDeterminants = new Map<string, Promise<string>>();

/**
 * Marks `factory` as made from `determinants` alone (the entry it calls, its definition, what it
 * uses), so that another factory made from the same ones (by value for plain data, by identity for
 * functions and other objects: `valueKey`) is not serialized again. Closure serialization costs
 * most of a program run, and the program builds the same functions for every stack and layout.
 * Only for factories whose closure captures nothing but `determinants` and module-level code.
 */
export function identifiedCode<Factory extends () => (...args: any[]) => unknown>(factory: Factory, ...determinants: unknown[]): Factory {
    codeDeterminants.set(factory, valueKey(determinants));
    return factory;
}

/** `lambdaCode(createEntry, definition, use)`, identified by those three (`identifiedCode`). */
export function entryCode<Definition extends object, Handler extends (...args: any[]) => unknown>(createEntry: (definition: Definition, provider: ResourcesProvider) => Handler, definition: Definition, use: FunctionUse): () => Handler {
    return identifiedCode(lambdaCode(createEntry, definition, use), createEntry, definition, use);
}

/** The closure's JavaScript, as Pulumi serializes it; once per determinants for an identified factory. */
function serializedClosure(factory: () => (...args: any[]) => unknown): Promise<string> {
    const serialize = async () => (await pulumi.runtime.serializeFunction(factory, { exportName: HANDLER_EXPORT, isFactoryFunction: true, allowSecrets: false })).text;
    const determinants = codeDeterminants.get(factory);
    if (determinants === undefined) return serialize();
    let serialized = serializedByDeterminants.get(determinants);
    if (!serialized) {
        serialized = serialize();
        serializedByDeterminants.set(determinants, serialized);
        serialized.catch(() => serializedByDeterminants.delete(determinants));
    }
    return serialized;
}

/**
 * The source of `__index.js` for a function whose code is `factory`: run once per container, the
 * function it returns handles each event. Rejects, naming the function, when the closure captures
 * a secret (it would sit in the archive in plain text), loads a `@pulumi/*` package, or loads a
 * package that is not installed.
 */
export async function functionSource(name: string, factory: () => (...args: any[]) => unknown): Promise<string> {
    let serialized: string;
    try {
        serialized = await serializedClosure(factory);
    } catch (error) {
        const reason = (error as Error).message;
        const hint = /secret/i.test(reason) ? " Read secrets at run time (Secrets Manager), never capture them." : "";
        throw new Error(`Function "${name}": its closure cannot be serialized: ${reason}${hint}`);
    }
    const key = createHash("sha256").update(serialized).digest("hex");
    let bundled = bundles.get(key);
    if (!bundled) {
        bundled = bundle({ contents: serialized, sourcefile: HANDLER_FILE });
        bundles.set(key, bundled);
        bundled.catch(() => bundles.delete(key));
    }
    try {
        const { text, packages } = await bundled;
        return `${banner(packages)}\n${text}`;
    } catch (error) {
        throw new Error(`Function "${name}": bundling its code failed: ${(error as Error).message}`);
    }
}

/**
 * The `code` and `handler` arguments of an `aws.lambda.Function` whose code is `factory`: an
 * archive holding only `__index.js`, the bundled closure; and that file's SHA-256, known before
 * deployment, for what must follow a change of the code.
 */
export function functionCode(name: string, factory: () => (...args: any[]) => unknown): { code: Promise<pulumi.asset.AssetArchive>; handler: string; sourceSha256: Promise<string> } {
    const source = functionSource(name, factory);
    const code = source.then((text) => new pulumi.asset.AssetArchive({ [HANDLER_FILE]: new pulumi.asset.StringAsset(text) }));
    const sourceSha256 = source.then((text) => createHash("sha256").update(text).digest("hex"));
    // Read by few callers: a failure reaches the program through `code`, not as an unhandled rejection here.
    sourceSha256.catch(() => undefined);
    return { code, handler: LAMBDA_HANDLER, sourceSha256 };
}
