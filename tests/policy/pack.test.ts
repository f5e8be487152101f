/**
 * The pack as a whole: names, levels, config files and catalogue agree with each other, so a rule
 * cannot be added, renamed or re-tuned in one place and forgotten in another.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { ruleConfig } from "../../policy/config";
import { policies } from "../../policy/policies";

const PACK = path.join(__dirname, "..", "..", "policy");
const read = (file: string) => fs.readFileSync(path.join(PACK, file), "utf8");
const LEVELS = ["advisory", "mandatory", "remediate", "disabled"];

describe("the policy pack", () => {
    const names = policies.map((p) => p.name);

    it("has unique kebab-case policy names, each with a default config in config.ts", () => {
        // Prepare
        const kebab = /^[a-z0-9]+(-[a-z0-9]+)*$/;
        // Act
        const bad = names.filter((n) => !kebab.test(n));
        // Assess
        assert.deepEqual(bad, []);
        assert.equal(new Set(names).size, names.length);
        assert.deepEqual([...names].sort(), Object.keys(ruleConfig).sort());
    });

    it("makes the timeout, memory and logging rules mandatory and the connection budget advisory", () => {
        // Prepare
        const levelOf = (name: string) => policies.find((p) => p.name === name)?.enforcementLevel;
        // Act
        const levels = Object.fromEntries(names.map((n) => [n, levelOf(n)]));
        // Assess
        for (const name of ["lambda-timeout-bounds", "api-timeout-budget", "lambda-memory-bounds", "lambda-json-logging", "lambda-log-group-in-stack", "log-group-retention", "api-stage-access-logs", "lambda-tracing-active"]) {
            assert.equal(levels[name], "mandatory", name);
        }
        assert.equal(levels["db-connection-budget"], "advisory");
    });

    it("publishes each knob's default in the policy's configSchema", () => {
        // Prepare
        const schemas = policies.map((p) => [p.name, p.configSchema?.properties ?? {}] as const);
        // Act
        const mismatches = schemas.flatMap(([name, properties]) =>
            Object.entries(ruleConfig[name as keyof typeof ruleConfig].defaults)
                .filter(([knob, value]) => JSON.stringify(properties[knob] && (properties[knob] as any).default) !== JSON.stringify(value))
                .map(([knob]) => `${name}.${knob}`));
        // Assess
        assert.deepEqual(mismatches, []);
    });

    for (const stack of ["dev", "prod"]) {
        it(`config.${stack}.json names only real policies, levels and knobs`, () => {
            // Prepare
            const config = JSON.parse(read(`config.${stack}.json`));
            // Act
            const problems: string[] = [];
            for (const [key, entry] of Object.entries<any>(config)) {
                if (key === "all") {
                    if (!LEVELS.includes(entry)) problems.push(`all: ${entry}`);
                    continue;
                }
                const policy = policies.find((p) => p.name === key);
                if (!policy) {
                    problems.push(`unknown policy ${key}`);
                    continue;
                }
                const { enforcementLevel, ...knobs } = typeof entry === "string" ? { enforcementLevel: entry } : entry;
                if (enforcementLevel !== undefined && !LEVELS.includes(enforcementLevel)) problems.push(`${key}: level ${enforcementLevel}`);
                for (const knob of Object.keys(knobs)) {
                    if (!(knob in (policy.configSchema?.properties ?? {}))) problems.push(`${key}: unknown knob ${knob}`);
                }
            }
            // Assess
            assert.deepEqual(problems, []);
            assert.equal(config.all, "mandatory");
        });
    }

    it("is stricter in prod than in dev where the stacks differ", () => {
        // Prepare
        const dev = JSON.parse(read("config.dev.json"));
        const prod = JSON.parse(read("config.prod.json"));
        // Act
        const pairs = {
            deletionProtection: [dev["rds-deletion-protection"].requireDeletionProtection, prod["rds-deletion-protection"].requireDeletionProtection],
            retention: [dev["log-group-retention"].minRetentionDays, prod["log-group-retention"].minRetentionDays],
            backups: [dev["rds-backup-retention"].minDays, prod["rds-backup-retention"].minDays],
        };
        // Assess
        assert.deepEqual(pairs, { deletionProtection: [false, true], retention: [7, 30], backups: [1, 7] });
    });

    it("lists every policy in the README catalogue", () => {
        // Prepare
        const readme = read("README.md");
        // Act
        const missing = names.filter((n) => !readme.includes(`| \`${n}\``));
        // Assess
        assert.deepEqual(missing, []);
    });

    it("pins its dependencies exactly and keeps index.ts to constructing the pack", () => {
        // Prepare
        const pkg = JSON.parse(read("package.json"));
        const index = read("index.ts");
        // Act
        const ranges = Object.values<string>({ ...pkg.dependencies, ...pkg.devDependencies }).filter((v) => !/^\d+\.\d+\.\d+$/.test(v));
        // Assess
        assert.equal(pkg.name, "serverless-microservices-policy");
        assert.equal(pkg.version, "0.1.0");
        assert.deepEqual(ranges, []);
        assert.equal((index.match(/new PolicyPack\(/g) ?? []).length, 1);
        assert.match(read("PulumiPolicy.yaml"), /^runtime: nodejs$/m);
    });
});
