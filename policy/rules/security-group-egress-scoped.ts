import { ruleConfig } from "../config";
import { isUnknown } from "../lib/unknown";
import { CheckedResource, resourcePolicy } from "../lib/rule";
import { Types } from "../lib/types";

/** EC2's names for every protocol (and with it every port). */
const EVERY_PROTOCOL = ["-1", "all"];

/** The egress rules a resource declares: a standalone rule, or a group's inline list. */
function egressOf({ type, props }: CheckedResource): { protocol: unknown; peer: unknown }[] {
    if (type === Types.securityGroupEgressRule) return [{ protocol: props.ipProtocol, peer: props.cidrIpv4 ?? props.cidrIpv6 ?? props.referencedSecurityGroupId ?? props.prefixListId }];
    if (type === Types.securityGroupRule) return props.type === "egress" ? [{ protocol: props.protocol, peer: props.cidrBlocks ?? props.sourceSecurityGroupId }] : [];
    const inline = Array.isArray(props.egress) ? props.egress : [];
    return inline.filter((rule: unknown) => rule && typeof rule === "object" && !isUnknown(rule)).map((rule: any) => ({ protocol: rule.protocol, peer: rule.cidrBlocks ?? rule.securityGroups }));
}

/**
 * A security group sends only what its members have a reason to: every egress rule names a
 * protocol (and so its ports), never all of them. A rule for every protocol lets a compromised
 * function or task reach anything its peer range holds.
 */
export const securityGroupEgressScoped = resourcePolicy({
    name: "security-group-egress-scoped",
    description: "Security group egress rules name a protocol and ports; none allows every protocol (\"-1\").",
    enforcementLevel: "mandatory",
    config: ruleConfig["security-group-egress-scoped"],
    resourceTypes: [Types.securityGroupEgressRule, Types.securityGroupRule, Types.securityGroup],
    remediationSteps: "Allow the protocol and port the members use (e.g. tcp 5432 to the database's group, tcp 443 to the endpoints' group) in rules of their own.",
    check: (resource) =>
        egressOf(resource)
            .filter(({ protocol }) => typeof protocol === "string" && EVERY_PROTOCOL.includes(protocol.toLowerCase()))
            .map(({ peer }) => `Egress allows every protocol and port${peer === undefined || isUnknown(peer) ? "" : ` to ${JSON.stringify(peer)}`}; allow the protocol and port the group's members use.`),
});
