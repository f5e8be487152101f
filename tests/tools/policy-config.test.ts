/**
 * The pack config of one stack (`npm run policy-config`): the environment's file as it is for the
 * one stack and the platform stack; for a service stack, the file plus the alarms its platform
 * stack publishes, which its route releases watch. Wrong arguments and an unreadable outputs file
 * are clear errors.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PLATFORM_ALARM_NAMES_OUTPUT } from "../../policy/lib/platform-outputs";
import { loadPackConfig, PACK_DIR, packConfigForStack } from "../../tools/policy-engine";
import { parseArgs, policyConfigFor } from "../../tools/policy-config";

describe("npm run policy-config", () => {
    let dir: string;
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-config-"));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("without the platform's outputs, is the environment's file as it is", () => {
        assert.deepEqual(JSON.parse(policyConfigFor({ environment: "prod" })), loadPackConfig(path.join(PACK_DIR, "config.prod.json")));
    });

    it("with the platform's outputs, adds the platform's alarms to lambda-release-rollback and keeps every other setting", () => {
        const outputs = path.join(dir, "platform.json");
        fs.writeFileSync(outputs, JSON.stringify({ apiUrl: "https://x", [PLATFORM_ALARM_NAMES_OUTPUT]: ["serverless-microservices-prod-api-5xx-rate"] }));
        const config = JSON.parse(policyConfigFor({ environment: "prod", platformOutputs: outputs }));
        const file = loadPackConfig(path.join(PACK_DIR, "config.prod.json"));
        assert.deepEqual(config["lambda-release-rollback"].platformAlarmNames, ["serverless-microservices-prod-api-5xx-rate"]);
        assert.deepEqual({ ...config, "lambda-release-rollback": undefined }, { ...file, "lambda-release-rollback": undefined });
    });

    it("keeps a rule's enforcement level when its entry was a level alone", () => {
        const config = packConfigForStack({ all: "mandatory", "lambda-release-rollback": "advisory" }, { [PLATFORM_ALARM_NAMES_OUTPUT]: ["a"] });
        assert.deepEqual(config["lambda-release-rollback"], { enforcementLevel: "advisory", platformAlarmNames: ["a"] });
        assert.deepEqual(packConfigForStack({ all: "mandatory" }, { apiUrl: "x" }), { all: "mandatory" }, "no alarms published: nothing added");
    });

    it("refuses an unreadable outputs file and wrong arguments, saying which", () => {
        const broken = path.join(dir, "broken.json");
        fs.writeFileSync(broken, "{not json");
        assert.throws(() => policyConfigFor({ environment: "prod", platformOutputs: broken }), /Cannot read the platform stack's outputs .*broken\.json/);
        assert.throws(() => policyConfigFor({ environment: "staging" }), /Cannot read policy pack config .*config\.staging\.json/);
        assert.throws(() => parseArgs([]), /--environment is required/);
        assert.throws(() => parseArgs(["--environment", "dev", "--stack", "dev-users"]), /unknown argument --stack/);
        assert.deepEqual(parseArgs(["--environment", "dev", "--platform-outputs", "p.json"]), { environment: "dev", platformOutputs: "p.json" });
    });
});
