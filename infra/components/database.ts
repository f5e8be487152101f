import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { AURORA_SERVERLESS_V2 } from "../../policy/lib/limits";
import { ComponentTypes } from "../../policy/lib/types";
import type { StackConfig } from "../../platform/config/stack-config";
import { finalSnapshotIdentifier } from "../../platform/naming";

/**
 * What the Database component needs: where it lives, and the stack file's `database` settings
 * (each documented on `StackConfig.database`, platform/config/stack-config.ts). None has a default here: deletion
 * protection, backups and capacity are always a stack's explicit choice, and what a stack file may
 * leave out is defaulted once, in `STACK_DEFAULTS`.
 */
export interface DatabaseArgs extends Readonly<StackConfig["database"]> {
    /** The environment: the final snapshot's name carries it. */
    environment: string;
    /** Subnets with no route out (at least two zones). */
    subnetIds: pulumi.Input<pulumi.Input<string>[]>;
    /** The group that admits PostgreSQL from the functions only. */
    securityGroupIds: pulumi.Input<pulumi.Input<string>[]>;
    /** @default none */
    tags?: Record<string, string>;
}

/** The user RDS creates; its password lives only in the Secrets Manager secret RDS manages. */
const MASTER_USERNAME = "app_admin";

/**
 * The server closes a session idle this long (`idle_session_timeout`). A Lambda container frozen
 * between invocations keeps its connection open, and a cluster with an open session never pauses;
 * closing them a minute before the shortest auto-pause delay AWS allows lets every stack's cluster
 * pause, and gives prod's connections back from containers Lambda no longer uses. The functions
 * expect it: a kept connection idle for a second is checked before reuse, and one the server closed
 * is replaced (functions/runtime/database.ts).
 */
export const IDLE_SESSION_TIMEOUT_SECONDS = AURORA_SERVERLESS_V2.autoPauseSeconds.min - 60;

/** Characters of the final snapshot's random suffix (hex of `byteLength` random bytes). */
const FINAL_SNAPSHOT_SUFFIX_BYTES = 4;

/**
 * An Aurora Serverless v2 PostgreSQL cluster: a `db.serverless` writer (plus readers in other zones
 * when asked), storage encrypted, TLS required, logs exported, IAM database authentication on (each
 * service's functions sign in as the service's own role with a token), and a master password that
 * RDS generates, stores in Secrets Manager and rotates, so it never passes through config or state;
 * only the migration function reads it.
 *
 * The engine version is exactly the configured one: automatic minor version upgrades are off on
 * every instance (Aurora upgrades a cluster only when all its instances allow it). Left on, Aurora
 * moves to a newer minor version by itself, a refresh records it, and the next update tries to go
 * back to the configured one, which RDS refuses ("Cannot upgrade aurora-postgresql from 17.7 to
 * 17.4"). To upgrade, raise `database.engineVersion`: an in-place change of the cluster.
 */
export class Database extends pulumi.ComponentResource {
    readonly clusterIdentifier: pulumi.Output<string>;
    /** The writer endpoint. */
    readonly endpoint: pulumi.Output<string>;
    readonly port: pulumi.Output<number>;
    readonly databaseName: pulumi.Output<string>;
    /** ARN of the RDS-managed secret holding `{"username","password"}`. */
    readonly secretArn: pulumi.Output<string>;
    /** `arn:aws:rds:<region>:<account>:cluster:<identifier>`. */
    readonly arn: pulumi.Output<string>;
    /** `cluster-...`: what IAM names the cluster by in `rds-db:connect` ARNs (not its identifier). */
    readonly clusterResourceId: pulumi.Output<string>;

    constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super(ComponentTypes.database, name, {}, opts);
        const tags = args.tags ?? {};
        const major = args.engineVersion.split(".")[0];

        const subnetGroup = new aws.rds.SubnetGroup(`${name}-subnets`, { subnetIds: args.subnetIds, tags }, { parent: this });

        const parameters = new aws.rds.ClusterParameterGroup(
            `${name}-params`,
            {
                family: `aurora-postgresql${major}`,
                description: "TLS required; slow statements logged; idle sessions closed",
                parameters: [
                    { name: "rds.force_ssl", value: "1" },
                    { name: "log_min_duration_statement", value: "1000" },
                    // Every change to structure and roles is in the exported log. The platform sends
                    // no password in a statement (service roles use IAM; local ones get SCRAM verifiers).
                    { name: "log_statement", value: "ddl" },
                    { name: "idle_session_timeout", value: String(IDLE_SESSION_TIMEOUT_SECONDS * 1000) },
                ],
                tags,
            },
            { parent: this },
        );

        // What a cluster is created with and cannot change without being replaced (the provider's
        // ForceNew inputs): a replacement gets a new snapshot suffix, the cluster it replaces keeps its own.
        const identity = {
            engine: "aurora-postgresql",
            engineMode: "provisioned", // Serverless v2 runs on the provisioned engine mode
            databaseName: args.databaseName,
            masterUsername: MASTER_USERNAME,
            storageEncrypted: true,
            dbSubnetGroupName: subnetGroup.name,
        };
        const finalSnapshot = args.finalSnapshot ? this.finalSnapshotIdentifier(name, args.environment, identity) : undefined;

        const cluster = new aws.rds.Cluster(
            `${name}-cluster`,
            {
                ...identity,
                engineVersion: args.engineVersion,
                manageMasterUserPassword: true,
                iamDatabaseAuthenticationEnabled: true,
                vpcSecurityGroupIds: args.securityGroupIds,
                dbClusterParameterGroupName: parameters.name,
                serverlessv2ScalingConfiguration: {
                    minCapacity: args.minCapacity,
                    maxCapacity: args.maxCapacity,
                    secondsUntilAutoPause: args.minCapacity === 0 ? args.autoPauseSeconds : undefined,
                },
                backupRetentionPeriod: args.backupRetentionDays,
                preferredBackupWindow: "03:00-04:00",
                preferredMaintenanceWindow: "sun:04:30-sun:05:30",
                copyTagsToSnapshot: true,
                deletionProtection: args.deletionProtection,
                skipFinalSnapshot: !args.finalSnapshot,
                finalSnapshotIdentifier: finalSnapshot,
                enabledCloudwatchLogsExports: ["postgresql"],
                applyImmediately: !args.deletionProtection,
                tags,
            },
            { parent: this, protect: args.protect },
        );

        const zones = aws.getAvailabilityZonesOutput({ state: "available" }, { parent: this });
        const instances = Array.from({ length: 1 + args.readers }, (_, index) => {
            const role = index === 0 ? "writer" : `reader-${index}`;
            return new aws.rds.ClusterInstance(
                `${name}-${role}`,
                {
                    clusterIdentifier: cluster.id,
                    instanceClass: "db.serverless",
                    engine: "aurora-postgresql",
                    engineVersion: cluster.engineVersion,
                    availabilityZone: zones.names.apply((names) => names[index % names.length]),
                    publiclyAccessible: false,
                    // The writer has the lowest tier; readers are promoted in order on failover.
                    promotionTier: index,
                    autoMinorVersionUpgrade: false,
                    dbSubnetGroupName: subnetGroup.name,
                    tags,
                },
                { parent: this, protect: args.protect },
            );
        });

        this.clusterIdentifier = cluster.clusterIdentifier;
        this.arn = cluster.arn;
        this.clusterResourceId = cluster.clusterResourceId;
        this.port = cluster.port;
        this.databaseName = cluster.databaseName;
        this.secretArn = cluster.masterUserSecrets.apply((secrets) => {
            const arn = secrets?.[0]?.secretArn;
            if (!arn) throw new Error(`Cluster ${name} has no managed master user secret.`);
            return arn;
        });
        // Instances are part of the database; dependents (the migration run) wait for the writer.
        this.endpoint = pulumi.all([cluster.endpoint, instances[0].id]).apply(([endpoint]) => endpoint);
        this.registerOutputs({ endpoint: this.endpoint, clusterIdentifier: this.clusterIdentifier, secretArn: this.secretArn });
    }

    /**
     * The name of the snapshot RDS takes when it deletes the cluster. Snapshot names are unique per
     * account and region and outlive the stack, so the name carries project, stack and a random
     * suffix that lives as long as the cluster: a stack destroyed, created again and destroyed again
     * does not collide with its first snapshot. Changing the name is an in-place update of the
     * cluster (the provider only records it for the deletion), so stacks deployed with the old name
     * keep their cluster.
     */
    private finalSnapshotIdentifier(name: string, environment: string, identity: Record<string, pulumi.Input<string | boolean>>): pulumi.Output<string> {
        const suffix = new random.RandomId(
            `${name}-final-snapshot-suffix`,
            { byteLength: FINAL_SNAPSHOT_SUFFIX_BYTES, keepers: pulumi.output(identity).apply((values) => Object.fromEntries(Object.entries(values).map(([key, value]) => [key, value === undefined ? "" : String(value)]))) },
            { parent: this },
        );
        return suffix.hex.apply((hex) => finalSnapshotIdentifier(pulumi.getProject(), environment, name, hex));
    }

    /**
     * The IAM resource a role needs `rds-db:connect` on to sign in as database user `user`:
     * `arn:aws:rds-db:<region>:<account>:dbuser:<cluster resource id>/<user>`.
     */
    userArn(user: string): pulumi.Output<string> {
        return pulumi.all([this.arn, this.clusterResourceId]).apply(([arn, resourceId]) => {
            const [, partition, , region, account] = arn.split(":");
            return `arn:${partition}:rds-db:${region}:${account}:dbuser:${resourceId}/${user}`;
        });
    }
}
