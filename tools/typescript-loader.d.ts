/** The node arguments that run a process with the project's TypeScript loader (`typescript-loader.js`). */
export declare const TYPESCRIPT_LOADER_ARGS: readonly string[];
