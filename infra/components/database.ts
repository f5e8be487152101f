import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ComponentTypes } from "../../policy/lib/types";
import type { StackConfig } from "../config";
import { withPreviousType } from "./component-type";

/**
 * What the Database component needs: where it lives, and the stack file's `database` settings
 * (each documented on `StackConfig.database`, infra/config.ts). None has a default here: deletion
 * protection, backups and capacity are always a stack's explicit choice, and what a stack file may
 * leave out is defaulted once, in `STACK_DEFAULTS`.
 */
export interface DatabaseArgs extends Readonly<StackConfig["database"]> {
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
 * An Aurora Serverless v2 PostgreSQL cluster: a `db.serverless` writer (plus readers in other zones
 * when asked), storage encrypted, TLS required, logs exported, IAM database authentication on (each
 * service's functions sign in as the service's own role with a token), and a master password that
 * RDS generates, stores in Secrets Manager and rotates, so it never passes through config or state;
 * only the migration function reads it.
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
        super(ComponentTypes.database, name, {}, withPreviousType("database", opts));
        const tags = args.tags ?? {};
        const major = args.engineVersion.split(".")[0];

        const subnetGroup = new aws.rds.SubnetGroup(`${name}-subnets`, { subnetIds: args.subnetIds, tags }, { parent: this });

        const parameters = new aws.rds.ClusterParameterGroup(
            `${name}-params`,
            {
                family: `aurora-postgresql${major}`,
                description: "TLS required; slow statements logged",
                parameters: [
                    { name: "rds.force_ssl", value: "1" },
                    { name: "log_min_duration_statement", value: "1000" },
                ],
                tags,
            },
            { parent: this },
        );

        const cluster = new aws.rds.Cluster(
            `${name}-cluster`,
            {
                engine: "aurora-postgresql",
                engineMode: "provisioned", // Serverless v2 runs on the provisioned engine mode
                engineVersion: args.engineVersion,
                databaseName: args.databaseName,
                masterUsername: MASTER_USERNAME,
                manageMasterUserPassword: true,
                iamDatabaseAuthenticationEnabled: true,
                storageEncrypted: true,
                dbSubnetGroupName: subnetGroup.name,
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
                // Unique per account and region, so it names the project and stack.
                finalSnapshotIdentifier: args.finalSnapshot ? `${pulumi.getProject()}-${pulumi.getStack()}-${name}-final` : undefined,
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
