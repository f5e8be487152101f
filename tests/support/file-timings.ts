/**
 * Root hooks (mocha's `--require`, see `.mocharc.json`): in a parallel run each worker runs one file
 * at a time, and these hooks record how long each file took, so that the next `npm test` starts
 * the longest files first (`tools/test.ts`); a long file started last would leave the other
 * workers idle at the end. One JSON line per file is appended to `TEST_TIMINGS_FILE`
 * (appends of one short line are atomic, whichever worker writes). A serial run records nothing.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Context } from "mocha";
import { REPOSITORY_ROOT } from "../../platform/config/stack-files";
import { CACHE_ROOT } from "../../tools/cache";
import { TEST_TIMINGS_FILE } from "../../tools/test";

let started = 0;
let cpuAtStart = 0;

/**
 * CPU time of this process and of the children it has waited for (servers, spawned processes,
 * type checks), in ms, from /proc; 0 where there is no /proc.
 */
function cpuMs(): number {
    try {
        const fields = fs.readFileSync("/proc/self/stat", "utf8").replace(/^.*\) /, "").split(" ");
        // utime, stime, cutime, cstime: fields 14-17 of stat(5), in clock ticks (100 a second on Linux).
        return [11, 12, 13, 14].reduce((sum, index) => sum + Number(fields[index]), 0) * 10;
    } catch {
        return 0;
    }
}

export const mochaHooks = process.env.MOCHA_WORKER_ID === undefined
    ? {}
    : {
          beforeAll() {
              started = Date.now();
              cpuAtStart = cpuMs();
          },
          afterAll(this: Context) {
              const file = this.test?.parent?.suites[0]?.file;
              if (!file) return;
              fs.mkdirSync(CACHE_ROOT, { recursive: true });
              fs.appendFileSync(TEST_TIMINGS_FILE, `${JSON.stringify({ file: path.relative(REPOSITORY_ROOT, file), ms: Date.now() - started, cpuMs: cpuMs() - cpuAtStart })}\n`);
          },
      };
