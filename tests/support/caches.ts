/**
 * Loaded before any suite (mocha's `--require`, see `.mocharc.json`): the work the suites repeat in
 * every process, with the same inputs, is kept in `.cache/` between processes and runs. Function
 * bundles are kept by their inputs' contents and esbuild's version and options
 * (`FUNCTION_BUNDLE_CACHE`, infra/bundle-cache.ts); a process started by a test inherits the
 * setting.
 */
import { BUNDLE_CACHE_VARIABLE } from "../../infra/bundle-cache";
import { cacheFolder } from "../../tools/cache";

process.env[BUNDLE_CACHE_VARIABLE] ??= cacheFolder("bundles");
