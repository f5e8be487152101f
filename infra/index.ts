/**
 * Entry point of the Pulumi program (package.json `main`; Pulumi.yaml names none, so the CLI runs
 * the program from the project root). `pulumi up` calls the exported function and publishes what
 * it returns as the stack outputs.
 */
import { deployStack } from "./program";

export = () => deployStack();
