import * as assert from "node:assert/strict";
import { ConfigError, deploymentConfigName, MONITORING_THRESHOLD_RANGES, parseStackConfig, PROJECT, STACK_DEFAULTS } from "../../platform/config/stack-config";
import { readStackConfig } from "../../tools/offline";

const key = (name: string) => `${PROJECT}:${name}`;

/** A valid dev-like config; each failing case changes one key. */
function validConfig(): Record<string, unknown> {
    return readStackConfig("dev");
}

function problemsOf(stack: string, values: Record<string, unknown>): string[] {
    try {
        parseStackConfig(stack, values);
    } catch (error) {
        assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
        return error.problems;
    }
    assert.fail("the config was accepted");
}

/** The valid config with `database` fields replaced. */
function withDatabase(fields: Record<string, unknown>, drop: string[] = []): Record<string, unknown> {
    const config = validConfig();
    const database = { ...(config[key("database")] as object), ...fields } as Record<string, unknown>;
    for (const field of drop) delete database[field];
    return { ...config, [key("database")]: database };
}

describe("stack configuration", () => {
    it("reads the real dev stack: scale to zero with auto-pause, no NAT gateway", () => {
        const config = parseStackConfig("dev", readStackConfig("dev"));
        assert.equal(config.region, "us-east-1");
        assert.deepEqual(
            [config.database.minCapacity, config.database.autoPauseSeconds, config.network.natGateways, config.database.deletionProtection],
            [0, 600, "none", false],
        );
    });

    it("reads the real prod stack: a capacity floor, protection, backups and a reader", () => {
        const config = parseStackConfig("prod", readStackConfig("prod"));
        assert.equal(config.database.minCapacity, 0.5);
        assert.equal(config.database.autoPauseSeconds, undefined);
        assert.equal(config.database.deletionProtection, true);
        assert.equal(config.database.finalSnapshot, true);
        assert.equal(config.database.protect, true);
        assert.ok(config.database.backupRetentionDays >= 7);
        assert.equal(config.database.readers, 1);
    });

    it("accepts values as the Pulumi SDK hands them over: scalars as strings, objects as JSON text", () => {
        const stringly = Object.fromEntries(
            Object.entries(validConfig()).map(([k, v]) => [k, typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v)]),
        );
        assert.deepEqual(parseStackConfig("dev", stringly), parseStackConfig("dev", validConfig()));
    });

    it("requires aws:region and every required project key, naming the stack", () => {
        let error: unknown;
        try {
            parseStackConfig("qa", {});
        } catch (caught) {
            error = caught;
        }
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /^Stack "qa" configuration \(Pulumi\.qa\.yaml\) is invalid:/);
        assert.deepEqual(
            error.problems.map((p) => p.split(":").slice(0, 2).join(":")),
            [
                "aws:region",
                `${PROJECT}:logRetentionDays`,
                `${PROJECT}:functionDefaults`,
                `${PROJECT}:functionDefaults.memoryMb`,
                `${PROJECT}:functionDefaults.timeoutSeconds`,
                `${PROJECT}:api`,
                `${PROJECT}:api.throttlingRateLimit`,
                `${PROJECT}:api.throttlingBurstLimit`,
                `${PROJECT}:network`,
                `${PROJECT}:database`,
                `${PROJECT}:database.minCapacity`,
                `${PROJECT}:database.maxCapacity`,
                `${PROJECT}:database.backupRetentionDays`,
                `${PROJECT}:database.deletionProtection`,
                `${PROJECT}:database.finalSnapshot`,
            ],
        );
    });

    it("rejects an unknown project key, listing the allowed ones", () => {
        assert.deepEqual(problemsOf("dev", { ...validConfig(), [key("logRetention")]: "7" }), [
            `${key("logRetention")}: is not a known setting; allowed: layout, logRetentionDays, logLevel, functionDefaults, api, network, database, auth, domain, monitoring, concurrency, release, events`,
        ]);
    });

    it("rejects an unknown nested key (a typo is not silently ignored)", () => {
        assert.deepEqual(problemsOf("dev", withDatabase({ minCapcity: 1 })), [
            `${key("database.minCapcity")}: is not a known setting; allowed: engineVersion, databaseName, minCapacity, maxCapacity, autoPauseSeconds, readers, backupRetentionDays, deletionProtection, finalSnapshot, protect, connectionsPerFunction`,
        ]);
    });

    it("takes database.connectionsPerFunction from STACK_DEFAULTS unless set, and rejects one that is not a concurrency", () => {
        // Prepare, Act
        const defaulted = parseStackConfig("dev", validConfig()).database.connectionsPerFunction;
        const set = parseStackConfig("dev", withDatabase({ connectionsPerFunction: 25 })).database.connectionsPerFunction;
        const rejected = [0, 2.5, 1001].map((value) => problemsOf("dev", withDatabase({ connectionsPerFunction: value })));
        // Assess
        assert.equal(defaulted, STACK_DEFAULTS.database.connectionsPerFunction);
        assert.equal(set, 25);
        for (const [index, value] of [0, 2.5, 1001].entries()) {
            assert.deepEqual(rejected[index], [`${key("database.connectionsPerFunction")}: ${value} is not allowed; use an integer from 1 to 1000`]);
        }
    });

    it("rejects a log retention CloudWatch does not offer", () => {
        assert.match(problemsOf("dev", { ...validConfig(), [key("logRetentionDays")]: "10" })[0], /logRetentionDays: 10 is not allowed; use one of 1, 3, 5, 7, 14, 30/);
    });

    it("rejects a log level outside the enum", () => {
        assert.deepEqual(problemsOf("dev", { ...validConfig(), [key("logLevel")]: "TRACE" }), [`${key("logLevel")}: "TRACE" is not allowed; use one of DEBUG, INFO, WARN, ERROR`]);
    });

    it("rejects function defaults outside the Lambda and HTTP API limits", () => {
        const config = { ...validConfig(), [key("functionDefaults")]: { memoryMb: 100, timeoutSeconds: 30 } };
        assert.deepEqual(problemsOf("dev", config), [
            `${key("functionDefaults.memoryMb")}: 100 is not allowed; use an integer from 128 to 10240`,
            `${key("functionDefaults.timeoutSeconds")}: 30 is not allowed; use an integer from 1 to 29`,
        ]);
    });

    it("rejects a NAT strategy outside the enum", () => {
        const config = { ...validConfig(), [key("network")]: { natGateways: "two" } };
        assert.deepEqual(problemsOf("dev", config), [`${key("network.natGateways")}: "two" is not allowed; use one of none, single, onePerAz`]);
    });

    describe("interface endpoints", () => {
        const withNetwork = (network: Record<string, unknown>) => ({ ...validConfig(), [key("network")]: network });

        it("reads one zone and no X-Ray endpoint in dev, two zones in prod", () => {
            // Act
            const dev = parseStackConfig("dev", readStackConfig("dev")).network;
            const prod = parseStackConfig("prod", readStackConfig("prod")).network;
            // Assess
            assert.deepEqual([dev.endpointZones, dev.xrayEndpoint, prod.endpointZones, prod.xrayEndpoint], [1, false, 2, false]);
        });

        it("rejects more endpoint zones than the VPC has, and an X-Ray switch that is not a boolean", () => {
            // Act
            const problems = problemsOf("dev", withNetwork({ availabilityZones: 2, endpointZones: 3, xrayEndpoint: "sometimes" }));
            // Assess
            assert.deepEqual(problems, [
                `${key("network.xrayEndpoint")}: "sometimes" is not allowed; use true or false`,
                `${key("network.endpointZones")}: 3 is more than network.availabilityZones (2)`,
            ]);
        });
    });

    describe("reserved concurrency", () => {
        const withConcurrency = (concurrency: unknown) => ({ ...validConfig(), [key("concurrency")]: concurrency });

        it("reserves nothing in dev, and the registry's reservations in prod", () => {
            // Act
            const dev = parseStackConfig("dev", readStackConfig("dev")).concurrency;
            const prod = parseStackConfig("prod", readStackConfig("prod")).concurrency;
            // Assess
            assert.deepEqual([dev, prod], [{ reservations: "none" }, { reservations: "registry" }]);
        });

        it("reserves nothing when the stack file says nothing", () => {
            // Prepare
            const { [key("concurrency")]: _omitted, ...without } = validConfig();
            // Act
            const { concurrency } = parseStackConfig("dev", without);
            // Assess
            assert.deepEqual(concurrency, { reservations: "none" });
        });

        it("reads the account's quota, and rejects an unknown mode or a quota that is not a positive integer", () => {
            assert.deepEqual(parseStackConfig("dev", withConcurrency({ reservations: "registry", accountLimit: 10 })).concurrency, { reservations: "registry", accountLimit: 10 });
            assert.deepEqual(problemsOf("dev", withConcurrency({ reservations: "some", accountLimit: 0.5 })), [
                `${key("concurrency.reservations")}: "some" is not allowed; use one of none, registry`,
                `${key("concurrency.accountLimit")}: 0.5 is not allowed; use an integer from 1 to 1000000`,
            ]);
        });
    });

    describe("event delivery", () => {
        const withEvents = (events: unknown) => ({ ...validConfig(), [key("events")]: events });

        it("hands dev's events over through a bucket and wakes its relays on alarms; prod calls EventBridge through its endpoint and checks every minute", () => {
            // Act
            const dev = parseStackConfig("dev", readStackConfig("dev")).events;
            const prod = parseStackConfig("prod", readStackConfig("prod")).events;
            // Assess
            assert.deepEqual(dev, { delivery: "bucket-handover", relayWake: "on-alarm" });
            assert.deepEqual(prod, { delivery: "interface-endpoint", relayWake: "every-minute" });
        });

        it("takes STACK_DEFAULTS.events when the stack file says nothing, field by field", () => {
            // Prepare
            const { [key("events")]: _omitted, ...without } = validConfig();
            // Act and assess
            assert.deepEqual(parseStackConfig("dev", without).events, STACK_DEFAULTS.events);
            assert.deepEqual(parseStackConfig("dev", withEvents({ relayWake: "on-alarm" })).events, { delivery: STACK_DEFAULTS.events.delivery, relayWake: "on-alarm" });
        });

        it("rejects an unknown delivery, wake or field, naming the key and what is allowed", () => {
            assert.deepEqual(problemsOf("dev", withEvents({ delivery: "nat", relayWake: "hourly" })), [
                `${key("events.delivery")}: "nat" is not allowed; use one of interface-endpoint, bucket-handover`,
                `${key("events.relayWake")}: "hourly" is not allowed; use one of every-minute, on-alarm`,
            ]);
            assert.deepEqual(problemsOf("dev", withEvents({ delivery: "bucket-handover", bucket: "mine" })), [`${key("events.bucket")}: is not a known setting; allowed: delivery, relayWake`]);
        });

        it("refuses on-alarm wake-ups with a log level that drops the INFO line the alarm reads, and takes it at INFO", () => {
            // Prepare
            const withLevel = (logLevel: string, relayWake: string) => ({ ...withEvents({ relayWake }), [key("logLevel")]: logLevel });
            // Act and assess
            assert.deepEqual(problemsOf("dev", withLevel("WARN", "on-alarm")), [
                `${key("events.relayWake")}: on-alarm wakes the outbox relays from an INFO log line, which logLevel WARN drops; set logLevel to INFO or DEBUG, or relayWake to every-minute`,
            ]);
            assert.equal(parseStackConfig("dev", withLevel("WARN", "every-minute")).logLevel, "WARN");
            assert.equal(parseStackConfig("dev", withLevel("INFO", "on-alarm")).events.relayWake, "on-alarm");
        });
    });

    it("rejects capacity that is not a multiple of 0.5 ACU, or a minimum above the maximum", () => {
        assert.deepEqual(problemsOf("dev", withDatabase({ minCapacity: 0.3 })), [`${key("database.minCapacity")}: 0.3 is not allowed; use a multiple of 0.5 from 0 to 256`]);
        assert.deepEqual(problemsOf("prod", withDatabase({ minCapacity: 4, maxCapacity: 2 }, ["autoPauseSeconds"])), [`${key("database.minCapacity")}: 4 is above database.maxCapacity (2)`]);
    });

    it("requires auto-pause with 0 ACU and refuses it with a floor", () => {
        assert.match(problemsOf("dev", withDatabase({}, ["autoPauseSeconds"]))[0], /database\.autoPauseSeconds: is required when database\.minCapacity is 0/);
        assert.match(problemsOf("dev", withDatabase({ minCapacity: 1 }))[0], /database\.autoPauseSeconds: only applies when database\.minCapacity is 0 \(it is 1\); remove it/);
        assert.match(problemsOf("dev", withDatabase({ autoPauseSeconds: 60 }))[0], /database\.autoPauseSeconds: 60 is not allowed; use an integer from 300 to 86400/);
    });

    it("rejects backups outside 1-35 days and a non-boolean protection flag", () => {
        assert.deepEqual(problemsOf("dev", withDatabase({ backupRetentionDays: 0, deletionProtection: "yes" })), [
            `${key("database.backupRetentionDays")}: 0 is not allowed; use an integer from 1 to 35`,
            `${key("database.deletionProtection")}: "yes" is not allowed; use true or false`,
        ]);
    });

    it("rejects an engine version that is not PostgreSQL 17", () => {
        assert.match(problemsOf("dev", withDatabase({ engineVersion: "16.4" }))[0], /database\.engineVersion: 16\.4 is not allowed; use an Aurora PostgreSQL 17 version/);
    });

    it("rejects more readers than there are other zones", () => {
        assert.match(problemsOf("dev", withDatabase({ readers: 2 }))[0], /database\.readers: 2 readers need more than network\.availabilityZones \(2\)/);
    });

    it("rejects CORS credentials with a wildcard origin", () => {
        const config = { ...validConfig(), [key("api")]: { throttlingRateLimit: 10, throttlingBurstLimit: 10, cors: { allowOrigins: ["*"], allowCredentials: true } } };
        assert.match(problemsOf("dev", config)[0], /api\.cors\.allowCredentials: cannot be true while allowOrigins contains "\*"/);
    });

    describe("monitoring", () => {
        const withMonitoring = (monitoring: unknown) => ({ ...validConfig(), [key("monitoring")]: monitoring });

        it("reads dev with alarms and dashboard off, and prod with both on and one threshold override", () => {
            assert.deepEqual(parseStackConfig("dev", readStackConfig("dev")).monitoring, { enabled: false, dashboard: false, thresholds: {} });
            assert.deepEqual(parseStackConfig("prod", readStackConfig("prod")).monitoring, { enabled: true, dashboard: true, thresholds: { apiLatencyP99Ms: 2000 } });
        });

        it("treats an absent monitoring key as off, and lets the dashboard differ from the alarms", () => {
            const { [key("monitoring")]: _omitted, ...without } = validConfig();
            assert.deepEqual(parseStackConfig("dev", without).monitoring, { enabled: false, dashboard: false, thresholds: {} });
            assert.deepEqual(parseStackConfig("dev", withMonitoring({ enabled: true, dashboard: false })).monitoring, { enabled: true, dashboard: false, thresholds: {} });
            assert.deepEqual(parseStackConfig("dev", withMonitoring(JSON.stringify({ enabled: "false", dashboard: "true" }))).monitoring, { enabled: false, dashboard: true, thresholds: {} });
        });

        it("requires enabled once monitoring is present, and rejects unknown settings and thresholds by name", () => {
            assert.deepEqual(problemsOf("dev", withMonitoring({ email: "ops@example.com" })), [`${key("monitoring.enabled")}: is required (true or false)`]);
            assert.deepEqual(problemsOf("dev", withMonitoring({ enabled: true, alarms: true, thresholds: { errorRate: 5 } })), [
                `${key("monitoring.alarms")}: is not a known setting; allowed: enabled, dashboard, email, thresholds`,
                // Every threshold the monitoring knows is named, in the order the ranges declare them.
                `${key("monitoring.thresholds.errorRate")}: is not a known setting; allowed: ${Object.keys(MONITORING_THRESHOLD_RANGES).join(", ")}`,
            ]);
            assert.deepEqual(problemsOf("dev", withMonitoring(true)), [`${key("monitoring")}: must be an object with enabled, dashboard, email, thresholds`]);
        });

        it("rejects an email that is not one address", () => {
            for (const email of ["ops", "ops@example", "Ops <ops@example.com>", "a@example.com,b@example.com"]) {
                assert.deepEqual(problemsOf("prod", withMonitoring({ enabled: true, email })), [`${key("monitoring.email")}: ${JSON.stringify(email)} is not allowed; use one email address such as ops@example.com`], email);
            }
            assert.equal(parseStackConfig("prod", withMonitoring({ enabled: true, email: "on-call+prod@ops.example.co.uk" })).monitoring.email, "on-call+prod@ops.example.co.uk");
        });

        it("rejects thresholds outside their ranges, listing every one", () => {
            const thresholds = { functionErrorRatePercent: 0, functionThrottles: 1.5, functionDurationPercentOfTimeout: 120, apiLatencyP99Ms: 31000, databaseCpuPercent: "high" };
            assert.deepEqual(problemsOf("prod", withMonitoring({ enabled: true, thresholds })), [
                `${key("monitoring.thresholds.functionErrorRatePercent")}: 0 is not allowed; use a number from 0.1 to 100`,
                `${key("monitoring.thresholds.functionThrottles")}: 1.5 is not allowed; use an integer from 1 to 100000`,
                `${key("monitoring.thresholds.functionDurationPercentOfTimeout")}: 120 is not allowed; use a number from 10 to 100`,
                `${key("monitoring.thresholds.apiLatencyP99Ms")}: 31000 is not allowed; use an integer from 10 to 30000`,
                `${key("monitoring.thresholds.databaseCpuPercent")}: "high" is not allowed; use a number from 10 to 100`,
            ]);
        });

        it("rejects every threshold just below its minimum and just above its maximum, and a fraction where it takes integers", () => {
            for (const [name, range] of Object.entries(MONITORING_THRESHOLD_RANGES) as Array<[string, { min: number; max: number; integer?: boolean }]>) {
                const step = range.integer ? 1 : 0.01;
                for (const value of [range.min - step, range.max + step, ...(range.integer ? [range.min + 0.5] : [])]) {
                    const problems = problemsOf("prod", withMonitoring({ enabled: true, thresholds: { [name]: value } }));
                    assert.equal(problems.length, 1, `${name}=${value}: ${JSON.stringify(problems)}`);
                    assert.ok(problems[0].startsWith(`${key(`monitoring.thresholds.${name}`)}: ${value} is not allowed`), problems[0]);
                }
                assert.doesNotThrow(() => parseStackConfig("prod", withMonitoring({ enabled: true, thresholds: { [name]: range.min } })), `${name}=${range.min}`);
            }
        });

        it("rejects a non-boolean enabled or dashboard", () => {
            assert.deepEqual(problemsOf("dev", withMonitoring({ enabled: "yes", dashboard: 1 })), [
                `${key("monitoring.enabled")}: "yes" is not allowed; use true or false`,
                `${key("monitoring.dashboard")}: 1 is not allowed; use true or false`,
            ]);
        });
    });

    it("rejects a malformed region", () => {
        assert.deepEqual(problemsOf("dev", { ...validConfig(), "aws:region": "useast1" }), ['aws:region: "useast1" is not allowed; use an AWS region such as us-east-1']);
    });

    it("reads the JWT issuer and audience of the real stacks", () => {
        assert.deepEqual(parseStackConfig("dev", validConfig()).auth.jwt, { issuer: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_DevPool01", audience: ["dev-app-client-id"] });
    });

    it("rejects a JWT issuer that is not an https URL and a missing or empty audience", () => {
        const withJwt = (jwt: object) => ({ ...validConfig(), [key("auth")]: { jwt } });
        assert.deepEqual(problemsOf("dev", withJwt({ issuer: "http://issuer.example.com", audience: ["a"] })), [
            `${key("auth.jwt.issuer")}: "http://issuer.example.com" is not allowed; use the issuer URL, https://... (e.g. https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf)`,
        ]);
        assert.deepEqual(problemsOf("dev", withJwt({ issuer: "https://issuer.example.com" })), [
            `${key("auth.jwt.audience")}: is required (a list of audiences, the app client ids tokens are issued to)`,
        ]);
        assert.deepEqual(problemsOf("dev", withJwt({ issuer: "https://issuer.example.com", audience: [] })), [
            `${key("auth.jwt.audience")}: must list at least one audience (the app client ids tokens are issued to)`,
        ]);
    });

    it("reads a custom domain and rejects a malformed name, certificate or zone", () => {
        const domain = { name: "api.example.com", certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/abc-123", hostedZoneId: "Z0123456789ABC" };
        assert.deepEqual(parseStackConfig("dev", { ...validConfig(), [key("domain")]: domain }).domain, domain);
        const problems = problemsOf("dev", { ...validConfig(), [key("domain")]: { name: "API.example", certificateArn: "arn:aws:iam::1:role/x", hostedZoneId: "zone" } });
        assert.equal(problems.length, 3);
        assert.match(problems[0], /domain\.name: "API\.example" is not allowed; use a lower-case DNS name/);
        assert.match(problems[1], /domain\.certificateArn: "arn:aws:iam::1:role\/x" is not allowed; use an ACM certificate ARN/);
        assert.match(problems[2], /domain\.hostedZoneId: "zone" is not allowed; use a Route 53 hosted zone id/);
    });

    it("rejects a certificate from another region than the stack's", () => {
        const domain = { name: "api.example.com", certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/abc-123" };
        assert.deepEqual(problemsOf("dev", { ...validConfig(), [key("domain")]: domain }), [
            `${key("domain.certificateArn")}: the certificate must be in the stack's region (us-east-1) for a regional API domain`,
        ]);
    });

    describe("release", () => {
        const withRelease = (release: unknown, monitoring: unknown = { enabled: true }) => ({ ...validConfig(), [key("release")]: release, [key("monitoring")]: monitoring });

        it("releases dev all at once and prod as a canary of 10% for 5 minutes, the CodeDeploy configuration it names", () => {
            // Act
            const dev = parseStackConfig("dev", readStackConfig("dev")).release;
            const prod = parseStackConfig("prod", readStackConfig("prod")).release;
            // Assess
            assert.deepEqual(dev, { strategy: "all-at-once", keepVersions: STACK_DEFAULTS.release.keepVersions });
            assert.deepEqual(prod, { strategy: "canary", intervalMinutes: 5, keepVersions: STACK_DEFAULTS.release.keepVersions });
            assert.equal(deploymentConfigName(dev), "CodeDeployDefault.LambdaAllAtOnce");
            assert.equal(deploymentConfigName(prod), "CodeDeployDefault.LambdaCanary10Percent5Minutes");
        });

        it("takes the strategy and its interval from STACK_DEFAULTS when left out", () => {
            // Prepare
            const { [key("release")]: _omitted, ...without } = validConfig();
            // Act
            const absent = parseStackConfig("dev", without).release;
            const linear = parseStackConfig("dev", withRelease({ strategy: "linear" })).release;
            // Assess
            assert.equal(absent.strategy, STACK_DEFAULTS.release.strategy);
            assert.equal(linear.intervalMinutes, STACK_DEFAULTS.release.intervalMinutes.linear);
            assert.equal(deploymentConfigName(linear), "CodeDeployDefault.LambdaLinear10PercentEvery1Minute");
        });

        it("rejects an unknown strategy, naming the key and the allowed values", () => {
            assert.deepEqual(problemsOf("dev", withRelease({ strategy: "blue-green" })), [`${key("release.strategy")}: "blue-green" is not allowed; use one of all-at-once, canary, linear`]);
        });

        it("rejects an interval CodeDeploy has no configuration for, listing the ones it has", () => {
            assert.deepEqual(problemsOf("dev", withRelease({ strategy: "canary", intervalMinutes: 7 })), [`${key("release.intervalMinutes")}: 7 is not allowed; use one of 5, 10, 15, 30`]);
            assert.deepEqual(problemsOf("dev", withRelease({ strategy: "linear", intervalMinutes: 5 })), [`${key("release.intervalMinutes")}: 5 is not allowed; use one of 1, 2, 3, 10`]);
        });

        it("rejects an interval on an all-at-once release, and a keepVersions below 1", () => {
            assert.deepEqual(problemsOf("dev", withRelease({ strategy: "all-at-once", intervalMinutes: 5, keepVersions: 0 })), [
                `${key("release.keepVersions")}: 0 is not allowed; use an integer from 1 to 100`,
                `${key("release.intervalMinutes")}: only applies to a canary or linear release (the strategy is all-at-once); remove it`,
            ]);
        });

        it("refuses a gradual release without alarms: nothing would roll a bad version back", () => {
            assert.deepEqual(problemsOf("dev", withRelease({ strategy: "canary" }, { enabled: false })), [
                `${key("release.strategy")}: "canary" needs monitoring.enabled: true (its alarms decide a rollback); enable monitoring or use "all-at-once"`,
            ]);
        });
    });
});
