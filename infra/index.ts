/**
 * Entry point of the Pulumi program (Pulumi.yaml `main`). `pulumi up` calls the exported function
 * and publishes what it returns as the stack outputs.
 */
import { deployPlatform } from "./program";

export = () => deployPlatform();
