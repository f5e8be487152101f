/**
 * The pack's entry point for the Pulumi CLI. It only constructs the pack: constructing it starts
 * the analyzer's gRPC server, so nothing else may import this file. The rules live in `rules/`,
 * the list in `policies.ts`.
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, policies } from "./policies";

new PolicyPack(PACK_NAME, { policies });
