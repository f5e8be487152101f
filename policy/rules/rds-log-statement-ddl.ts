import { ruleConfig } from "../config";
import { isUnknown } from "../lib/unknown";
import { resourcePolicy } from "../lib/rule";
import { Types } from "../lib/types";

/**
 * A PostgreSQL cluster parameter group logs every change of structure and roles
 * (`log_statement = ddl`), and no more: `mod` and `all` write each statement's values (the
 * services' personal data) into the exported log. DDL may carry a password only in clear text;
 * the platform sends SCRAM verifiers instead.
 */
export const rdsLogStatementDdl = resourcePolicy({
    name: "rds-log-statement-ddl",
    description: "PostgreSQL cluster parameter groups set log_statement to ddl: changes of structure and roles logged, data values not.",
    enforcementLevel: "mandatory",
    config: ruleConfig["rds-log-statement-ddl"],
    resourceTypes: [Types.rdsClusterParameterGroup],
    remediationSteps: 'Add { name: "log_statement", value: "ddl" } to the parameter group\'s parameters.',
    check: ({ props }) => {
        const family = props.family;
        if (typeof family !== "string" || !family.includes("postgres")) return [];
        const parameters = Array.isArray(props.parameters) ? props.parameters : [];
        if (isUnknown(props.parameters) || parameters.some(isUnknown)) return [];
        const value = parameters.find((parameter: { name?: unknown }) => parameter?.name === "log_statement")?.value;
        if (value === "ddl" || isUnknown(value)) return [];
        if (value === "mod" || value === "all") return [`log_statement is ${value}: every ${value === "mod" ? "data change" : "statement"} is logged with its values; set it to ddl.`];
        return [`log_statement is ${value === undefined ? "not set (none)" : value}: no change of structure or roles is logged; set it to ddl.`];
    },
});
