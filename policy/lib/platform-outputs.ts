/**
 * What a service stack's policy run takes from its platform stack's outputs (stack-per-service
 * layout): the pack sees one stack's resources, so a rule that counts on a resource of the platform
 * gets it through the pack config, filled from these outputs (`packConfigForStack`, tools/policy-engine.ts;
 * `npm run policy-config` in CI).
 */

/** The platform stack's output naming the alarms it creates; a route's deployment group watches the API's. */
export const PLATFORM_ALARM_NAMES_OUTPUT = "platformAlarmNames";
