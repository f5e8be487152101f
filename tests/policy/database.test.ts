import { strict as assert } from "assert";
import { Types } from "../../policy/lib/types";
import { UNKNOWN_STRING_SENTINEL } from "../../policy/lib/unknown";
import { clusterInstanceProps, clusterProps } from "./fixtures";
import { validateResource, withField } from "./harness";

const cluster = (policy: string, props: object, config?: object) =>
    validateResource(policy, { type: Types.rdsCluster, props }, config);

describe("rds-storage-encrypted", () => {
    it("accepts an encrypted cluster", async () => {
        // Prepare
        const props = clusterProps();
        // Act
        const messages = await cluster("rds-storage-encrypted", props);
        // Assess
        assert.deepEqual(messages, []);
    });

    it("rejects an unencrypted cluster", async () => {
        // Prepare
        const props = withField(clusterProps(), "storageEncrypted", false);
        // Act
        const messages = await cluster("rds-storage-encrypted", props);
        // Assess
        assert.deepEqual(messages, ["Storage is not encrypted; set storageEncrypted to true (it cannot be changed after creation)."]);
    });

    it("rejects a cluster that leaves storageEncrypted unset", async () => {
        // Prepare
        const props = withField(clusterProps(), "storageEncrypted", undefined);
        // Act
        const messages = await cluster("rds-storage-encrypted", props);
        // Assess
        assert.equal(messages.length, 1);
    });
});

describe("rds-not-publicly-accessible", () => {
    const check = (props: object, type: string = Types.rdsClusterInstance) =>
        validateResource("rds-not-publicly-accessible", { type, props });

    it("accepts a private cluster instance", async () => {
        // Prepare
        const props = clusterInstanceProps();
        // Act
        const messages = await check(props);
        // Assess
        assert.deepEqual(messages, []);
    });

    it("rejects a publicly accessible cluster instance", async () => {
        // Prepare
        const props = withField(clusterInstanceProps(), "publiclyAccessible", true);
        // Act
        const messages = await check(props);
        // Assess
        assert.deepEqual(messages, ["Instance is publicly accessible; set publiclyAccessible to false and reach it from inside the VPC."]);
    });

    it("rejects a publicly accessible DB instance too", async () => {
        // Prepare
        const props = { instanceClass: "db.t4g.micro", publiclyAccessible: true };
        // Act
        const messages = await check(props, Types.rdsInstance);
        // Assess
        assert.equal(messages.length, 1);
    });
});

describe("rds-managed-master-password", () => {
    it("accepts a cluster whose password RDS manages", async () => {
        // Prepare
        const props = clusterProps();
        // Act
        const messages = await cluster("rds-managed-master-password", props);
        // Assess
        assert.deepEqual(messages, []);
    });

    it("rejects a cluster given a masterPassword", async () => {
        // Prepare
        const props = withField(withField(clusterProps(), "manageMasterUserPassword", undefined), "masterPassword", "hunter2hunter2");
        // Act
        const messages = await cluster("rds-managed-master-password", props);
        // Assess
        assert.deepEqual(messages, [
            "A master password is passed in masterPassword; remove it and set manageMasterUserPassword to true so RDS keeps it in Secrets Manager.",
            "The master password is not managed by RDS; set manageMasterUserPassword to true.",
        ]);
    });

    it("rejects a cluster with manageMasterUserPassword false", async () => {
        // Prepare
        const props = withField(clusterProps(), "manageMasterUserPassword", false);
        // Act
        const messages = await cluster("rds-managed-master-password", props);
        // Assess
        assert.deepEqual(messages, ["The master password is not managed by RDS; set manageMasterUserPassword to true."]);
    });

    it("skips a cluster restored from a snapshot, which keeps the snapshot's credentials", async () => {
        // Prepare
        const props = withField(withField(clusterProps(), "manageMasterUserPassword", undefined), "snapshotIdentifier", "snap-1");
        // Act
        const messages = await cluster("rds-managed-master-password", props);
        // Assess
        assert.deepEqual(messages, []);
    });
});

describe("rds-backup-retention", () => {
    it("accepts 14 days", async () => {
        // Prepare
        const props = clusterProps();
        // Act
        const messages = await cluster("rds-backup-retention", props);
        // Assess
        assert.deepEqual(messages, []);
    });

    it("rejects 1 day under the default minimum of 7", async () => {
        // Prepare
        const props = withField(clusterProps(), "backupRetentionPeriod", 1);
        // Act
        const messages = await cluster("rds-backup-retention", props);
        // Assess
        assert.deepEqual(messages, ["Backup retention is 1 day, below the minimum of 7; set backupRetentionPeriod to at least 7 days."]);
    });

    it("rejects an unset retention (RDS keeps 1 day) under the default minimum", async () => {
        // Prepare
        const props = withField(clusterProps(), "backupRetentionPeriod", undefined);
        // Act
        const messages = await cluster("rds-backup-retention", props);
        // Assess
        assert.deepEqual(messages, ["Backup retention is not set (RDS keeps 1 day); set backupRetentionPeriod to at least 7 days."]);
    });

    it("accepts 1 day under dev's minDays of 1", async () => {
        // Prepare
        const props = withField(clusterProps(), "backupRetentionPeriod", 1);
        // Act
        const messages = await cluster("rds-backup-retention", props, { minDays: 1 });
        // Assess
        assert.deepEqual(messages, []);
    });
});

describe("rds-deletion-protection", () => {
    it("does not require deletion protection by default (dev)", async () => {
        // Prepare
        const props = withField(clusterProps(), "deletionProtection", false);
        // Act
        const messages = await cluster("rds-deletion-protection", props);
        // Assess
        assert.deepEqual(messages, []);
    });

    it("accepts a protected cluster when the config requires protection", async () => {
        // Prepare
        const props = clusterProps();
        // Act
        const messages = await cluster("rds-deletion-protection", props, { requireDeletionProtection: true });
        // Assess
        assert.deepEqual(messages, []);
    });

    it("rejects an unprotected cluster when the config requires protection (prod)", async () => {
        // Prepare
        const props = withField(clusterProps(), "deletionProtection", false);
        // Act
        const messages = await cluster("rds-deletion-protection", props, { requireDeletionProtection: true });
        // Assess
        assert.deepEqual(messages, ["Deletion protection is off; set deletionProtection to true (this stack's policy config requires it)."]);
    });
});

describe("rds-log-exports", () => {
    it("accepts a cluster exporting postgresql logs", async () => {
        // Prepare
        const props = clusterProps();
        // Act
        const messages = await cluster("rds-log-exports", props);
        // Assess
        assert.deepEqual(messages, []);
    });

    it("rejects a cluster exporting no logs", async () => {
        // Prepare
        const props = withField(clusterProps(), "enabledCloudwatchLogsExports", undefined);
        // Act
        const messages = await cluster("rds-log-exports", props);
        // Assess
        assert.deepEqual(messages, ["Log type \"postgresql\" is not exported to CloudWatch Logs; add it to enabledCloudwatchLogsExports."]);
    });

    it("ignores a MySQL cluster, whose log types differ", async () => {
        // Prepare
        const props = withField(withField(clusterProps(), "engine", "aurora-mysql"), "enabledCloudwatchLogsExports", undefined);
        // Act
        const messages = await cluster("rds-log-exports", props);
        // Assess
        assert.deepEqual(messages, []);
    });

    it("skips an export list that is unknown during preview", async () => {
        // Prepare
        const props = withField(clusterProps(), "enabledCloudwatchLogsExports", UNKNOWN_STRING_SENTINEL);
        // Act
        const messages = await cluster("rds-log-exports", props);
        // Assess
        assert.deepEqual(messages, []);
    });
});
