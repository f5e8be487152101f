import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** What the Database component needs. Fields without a default are required. */
export interface DatabaseArgs {
    /** Subnets with no route out (at least two zones). */
    subnetIds: pulumi.Input<pulumi.Input<string>[]>;
    /** The group that admits PostgreSQL from the functions only. */
    securityGroupIds: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Aurora PostgreSQL version; the parameter group family follows its major version.
     * @default "17.5"
     */
    engineVersion?: string;
    /** @default "app" */
    databaseName?: string;
    /**
     * Lowest capacity in ACUs. 0 lets the cluster pause when idle (first request after a pause
     * waits up to ~15 s while it resumes); production keeps a floor.
     * @default 0
     */
    minCapacity?: number;
    /** @default 4 */
    maxCapacity?: number;
    /**
     * Idle seconds before a 0-ACU cluster pauses (300-86400). Only with `minCapacity: 0`.
     * @default 300 when minCapacity is 0
     */
    autoPauseSeconds?: number;
    /**
     * Readers, each in a different zone from the writer; Aurora promotes one on failover.
     * @default 0
     */
    readers?: number;
    /** @default 7 */
    backupRetentionDays?: number;
    /**
     * Refuse deletion through the AWS API. Caution: turning it off on a live stack is what lets
     * `pulumi destroy` (or a replacement) delete the data.
     * @default true
     */
    deletionProtection?: boolean;
    /** Snapshot the cluster when it is deleted. @default true */
    finalSnapshot?: boolean;
    /** Pulumi `protect` on the cluster: `pulumi destroy` refuses to touch it. @default false */
    protect?: boolean;
    tags?: Record<string, string>;
}

const DEFAULTS = {
    engineVersion: "17.5",
    databaseName: "app",
    minCapacity: 0,
    maxCapacity: 4,
    autoPauseSeconds: 300,
    readers: 0,
    backupRetentionDays: 7,
    deletionProtection: true,
    finalSnapshot: true,
    protect: false,
} as const;

/** The user RDS creates; its password lives only in the Secrets Manager secret RDS manages. */
const MASTER_USERNAME = "app_admin";

/**
 * An Aurora Serverless v2 PostgreSQL cluster: a `db.serverless` writer (plus readers in other zones
 * when asked), storage encrypted, TLS required, logs exported, and a master password that RDS
 * generates, stores in Secrets Manager and rotates, so it never passes through config or state.
 */
export class Database extends pulumi.ComponentResource {
    readonly clusterIdentifier: pulumi.Output<string>;
    /** The writer endpoint. */
    readonly endpoint: pulumi.Output<string>;
    readonly port: pulumi.Output<number>;
    readonly databaseName: pulumi.Output<string>;
    /** ARN of the RDS-managed secret holding `{"username","password"}`. */
    readonly secretArn: pulumi.Output<string>;

    constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("microservices:database:Database", name, {}, opts);
        const settings = { ...DEFAULTS, ...args };
        const tags = args.tags ?? {};
        const major = settings.engineVersion.split(".")[0];

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
                engineVersion: settings.engineVersion,
                databaseName: settings.databaseName,
                masterUsername: MASTER_USERNAME,
                manageMasterUserPassword: true,
                storageEncrypted: true,
                dbSubnetGroupName: subnetGroup.name,
                vpcSecurityGroupIds: args.securityGroupIds,
                dbClusterParameterGroupName: parameters.name,
                serverlessv2ScalingConfiguration: {
                    minCapacity: settings.minCapacity,
                    maxCapacity: settings.maxCapacity,
                    secondsUntilAutoPause: settings.minCapacity === 0 ? settings.autoPauseSeconds : undefined,
                },
                backupRetentionPeriod: settings.backupRetentionDays,
                preferredBackupWindow: "03:00-04:00",
                preferredMaintenanceWindow: "sun:04:30-sun:05:30",
                copyTagsToSnapshot: true,
                deletionProtection: settings.deletionProtection,
                skipFinalSnapshot: !settings.finalSnapshot,
                // Unique per account and region, so it names the project and stack.
                finalSnapshotIdentifier: settings.finalSnapshot ? `${pulumi.getProject()}-${pulumi.getStack()}-${name}-final` : undefined,
                enabledCloudwatchLogsExports: ["postgresql"],
                applyImmediately: !settings.deletionProtection,
                tags,
            },
            { parent: this, protect: settings.protect },
        );

        const zones = aws.getAvailabilityZonesOutput({ state: "available" }, { parent: this });
        const instances = Array.from({ length: 1 + settings.readers }, (_, index) => {
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
                { parent: this, protect: settings.protect },
            );
        });

        this.clusterIdentifier = cluster.clusterIdentifier;
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
}
