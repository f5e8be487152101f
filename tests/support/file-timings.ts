/**
 * Root hooks (mocha's `--require`, see `.mocharc.json`): in a parallel run each worker runs one file
 * at a time, and these hooks record how long each file took, so that the next `npm test` starts
 * the longest files first (`tools/test.ts`); a long file started last would leave the other
 * workers idle at the end. One JSON line per file is appended to `.cache/test-timings.jsonl`
 * (appends of one short line are atomic, whichever worker writes). A serial run records nothing.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Context } from "mocha";
import { REPOSITORY_ROOT } from "../../infra/stack-files";
import { CACHE_ROOT } from "../../tools/cache";

/** Where the timings go: one `{"file": <relative path>, "ms": <wall time>}` per line, the last line of a file wins. */
export const TEST_TIMINGS_FILE = path.join(CACHE_ROOT, "test-timings.jsonl");

let started = 0;

export const mochaHooks = process.env.MOCHA_WORKER_ID === undefined
    ? {}
    : {
          beforeAll() {
              started = Date.now();
          },
          afterAll(this: Context) {
              const file = this.test?.parent?.suites[0]?.file;
              if (!file) return;
              fs.mkdirSync(CACHE_ROOT, { recursive: true });
              fs.appendFileSync(TEST_TIMINGS_FILE, `${JSON.stringify({ file: path.relative(REPOSITORY_ROOT, file), ms: Date.now() - started })}\n`);
          },
      };
