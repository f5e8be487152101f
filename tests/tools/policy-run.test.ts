/**
 * `npm run policy`'s arguments: one stack, or every stack of an environment in deploy order (its
 * file's layout, or the one `--layout` asks for), with the environment's pack config; wrong
 * arguments are refused with the usage.
 */
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { services } from "../../infra/services";
import { PACK_DIR } from "../../tools/policy-engine";
import { parseArgs } from "../../tools/policy-run";

describe("npm run policy: arguments", () => {
    const names = services.map((service) => service.name);

    it("checks one stack with its environment's pack config, a service stack's too", () => {
        assert.deepEqual(parseArgs(["--stack", "dev"]).stacks, ["dev"]);
        const serviceStack = parseArgs(["--stack", `dev-${names[0]}`, "--layout", "stack-per-service"]);
        assert.deepEqual(serviceStack.stacks, [`dev-${names[0]}`]);
        assert.equal(serviceStack.configFile, path.join(PACK_DIR, "config.dev.json"));
    });

    it("checks every stack of an environment, the platform first, in the layout asked for or the file's", () => {
        assert.deepEqual(parseArgs(["--environment", "prod", "--layout", "stack-per-service"]).stacks, ["prod-platform", ...names.map((name) => `prod-${name}`)]);
        assert.deepEqual(parseArgs(["--environment", "prod"]).stacks, ["prod"]);
    });

    it("refuses an unknown layout, both or neither of --stack and --environment, and an unknown argument", () => {
        assert.throws(() => parseArgs(["--stack", "dev", "--layout", "micro-stacks"]), /--layout must be one of one-stack, stack-per-service; got micro-stacks/);
        assert.throws(() => parseArgs(["--stack", "dev", "--environment", "dev"]), /one of --stack and --environment is required/);
        assert.throws(() => parseArgs([]), /one of --stack and --environment is required/);
        assert.throws(() => parseArgs(["--stack", "dev", "--bogus"]), /unknown argument --bogus/);
        assert.throws(() => parseArgs(["--stack", "staging"]), /Stack "staging" has no settings/);
    });
});
