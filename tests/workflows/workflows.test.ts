/**
 * The GitHub workflows: every file passes a real validator (`@action-validator/core`, the
 * SchemaStore GitHub workflow schema compiled to WebAssembly; it runs offline), a broken copy fails
 * it, and the delivery rules hold: previews and `up`s with the policy pack of the stacks a change
 * affects (`npm run affected-stacks`), the platform's first, then the services' each on its own,
 * after a platform job that succeeded or was skipped; previews comment on the PR; the release step
 * only after an `up`; one concurrency group per stack; OIDC, never access keys; prod behind the
 * `production` environment.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { validateWorkflow, type ValidationError } from "@action-validator/core";
import * as YAML from "yaml";
import { LAMBDA_RUNTIME } from "../../infra/components/function-settings";
import { listStacks, REPOSITORY_ROOT } from "../../tools/offline";
import { ciMatrices } from "../../tools/affected-stacks";

const WORKFLOWS = path.join(REPOSITORY_ROOT, ".github", "workflows");
const REUSABLE = "./.github/workflows/pulumi.yml";

type Json = Record<string, any>;

function files(): string[] {
    return fs
        .readdirSync(WORKFLOWS)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort();
}

function source(file: string): string {
    return fs.readFileSync(path.join(WORKFLOWS, file), "utf8");
}

function load(file: string): Json {
    return YAML.parse(source(file));
}

/** The validator's errors as one line each: the innermost reasons with their paths. */
function problems(errors: readonly ValidationError[]): string[] {
    const out: string[] = [];
    const walk = (e: ValidationError) => {
        const nested = "states" in e ? e.states ?? [] : [];
        if (nested.length === 0) {
            out.push(`${"path" in e ? e.path : ""} ${e.title}${e.detail ? `: ${e.detail}` : ""}`.trim());
        }
        nested.forEach((state) => state.errors.forEach(walk));
    };
    errors.forEach(walk);
    return [...new Set(out)];
}

function validate(text: string): string[] {
    return problems(validateWorkflow(text).errors);
}

function steps(job: Json): Json[] {
    return job.steps ?? [];
}

function runs(job: Json): string[] {
    return steps(job)
        .map((s) => s.run)
        .filter((r): r is string => typeof r === "string");
}

function usesStep(job: Json, action: string): Json | undefined {
    return steps(job).find((s) => typeof s.uses === "string" && s.uses.split("@")[0] === action && (action !== "pulumi/actions" || s.with?.command !== undefined));
}

/** The jobs of a workflow that call the reusable Pulumi workflow. */
function callers(workflow: Json): Array<[string, Json]> {
    return Object.entries(workflow.jobs as Json).filter(([, job]) => job.uses === REUSABLE);
}

const GRANTS: Record<string, number> = { none: 0, read: 1, write: 2 };

/** The Node major everything runs on: the Lambda runtime's (`nodejs24.x` -> "24"). */
const NODE_MAJOR = /^nodejs(\d+)\.x$/.exec(LAMBDA_RUNTIME)![1];

/**
 * Evaluates the part of GitHub's expression language the workflows here use: `||`, `&&`, `!`, `==`,
 * `!=`, parentheses, 'strings', `startsWith(a, b)`, the status functions `success()`, `failure()`,
 * `cancelled()` and `always()` (the run's state is `context.$status`, default success) and context
 * paths (`github.ref`), to the value GitHub would give (`a && 'x' || 'y'` is 'x' or 'y').
 * An unknown construct throws, so an expression the evaluator cannot read fails the test.
 */
function valueOf(expression: string, context: Json): unknown {
    const text = expression.trim().replace(/^\$\{\{([\s\S]*)\}\}$/, "$1");
    const tokens = text.match(/'(?:[^']|'')*'|\|\||&&|==|!=|[()!,]|[A-Za-z_][A-Za-z0-9_.-]*|\S/g) ?? [];
    let at = 0;
    const peek = () => tokens[at];
    const take = (expected?: string) => {
        const token = tokens[at++];
        if (expected !== undefined && token !== expected) throw new Error(`expected ${expected} at ${token} in ${text}`);
        return token;
    };
    const primary = (): unknown => {
        const token = take();
        if (token === "(") {
            const value = or();
            take(")");
            return value;
        }
        if (token === "!") return !primary();
        if (token?.startsWith("'")) return token.slice(1, -1).replace(/''/g, "'");
        if (token === "startsWith") {
            take("(");
            const a = String(or());
            take(",");
            const b = String(or());
            take(")");
            return a.toLowerCase().startsWith(b.toLowerCase());
        }
        if (token === "true" || token === "false") return token === "true";
        if (token === "success" || token === "failure" || token === "cancelled" || token === "always") {
            take("(");
            take(")");
            const status = (context.$status as string | undefined) ?? "success";
            return token === "always" ? true : status === token;
        }
        if (token && /^[A-Za-z_]/.test(token)) return token.split(".").reduce<any>((value, key) => value?.[key], context) ?? "";
        throw new Error(`cannot evaluate ${token} in ${text}`);
    };
    const comparison = (): unknown => {
        let left = primary();
        while (peek() === "==" || peek() === "!=") {
            const op = take();
            const right = primary();
            const equal = String(left).toLowerCase() === String(right).toLowerCase();
            left = op === "==" ? equal : !equal;
        }
        return left;
    };
    const and = (): unknown => {
        let left = comparison();
        while (peek() === "&&") {
            take();
            const right = comparison();
            left = left ? right : left;
        }
        return left;
    };
    const or = (): unknown => {
        let left = and();
        while (peek() === "||") {
            take();
            const right = and();
            left = left ? left : right;
        }
        return left;
    };
    const value = or();
    if (at !== tokens.length) throw new Error(`unexpected ${peek()} in ${text}`);
    return value;
}

/** An `if:` condition's outcome. */
function evaluate(expression: string, context: Json): boolean {
    return Boolean(valueOf(expression, context));
}

/** A text with `${{ expression }}` parts, as GitHub fills it in. */
function interpolate(template: string, context: Json): string {
    return template.replace(/\$\{\{([\s\S]*?)\}\}/g, (_, expression: string) => String(valueOf(expression, context)));
}

describe("installing the policy pack", () => {
    it("comes with the root install (the workflows run only `npm ci`, and pulumi/actions installs nothing)", () => {
        const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8")) as { scripts: Record<string, string> };
        assert.match(manifest.scripts.postinstall, /^npm ci --prefix policy\b/);
    });
});

describe(".ci/run", () => {
    const script = fs.readFileSync(path.join(REPOSITORY_ROOT, ".ci", "run"), "utf8");

    it(`pins a Node ${NODE_MAJOR} release, the Lambda runtime's major, and fetches it from the npm node package when the machine has another`, () => {
        const version = /^NODE_VERSION=(\d+)\.(\d+)\.(\d+)$/m.exec(script);
        assert.ok(version, "NODE_VERSION=<major>.<minor>.<patch>");
        assert.equal(version[1], NODE_MAJOR);
        assert.match(script, /npm install [^\n]*--prefix "\$node_home" "node@\$NODE_VERSION"/);
        assert.match(script, /export PATH="\$node_home\/node_modules\/node\/bin:\$PATH"/);
    });

    it("installs with npm ci, then runs npm test, the policy run of every stack (at once, each awaited and its exit status kept) and the template check", () => {
        const lines = script.split("\n").filter((line) => /^npm (ci|test|run)\b/.test(line));
        // A command run in the background is written `<command> ><log> 2>&1 &`.
        const commands = lines.map((line) => line.replace(/ >\S+ 2>&1 &$/, ""));
        assert.deepEqual(commands, ["npm ci --no-audit --no-fund", "npm test", ...listStacks().map((stack) => `npm run policy -- --stack ${stack}`), "npm run check:template"]);
        for (const stack of listStacks()) {
            assert.match(script, new RegExp(`^npm run policy -- --stack ${stack} >\\S+ 2>&1 &\n${stack}_policy=\\$!$`, "m"));
            assert.match(script, new RegExp(`^wait "\\$${stack}_policy" \\|\\| policy_failed=1$`, "m"));
        }
        assert.match(script, /^\[ "\$policy_failed" = 0 \]$/m, "a failed policy run fails the script");
    });
});

describe("GitHub workflows", () => {
    it("exist: pull-request.yml, deploy.yml and the reusable pulumi.yml", () => {
        assert.deepEqual(files(), ["deploy.yml", "pull-request.yml", "pulumi.yml"]);
    });

    describe("pass the workflow validator", () => {
        for (const file of files()) {
            it(file, () => {
                assert.deepEqual(validate(source(file)), [], `${file} is not a valid workflow`);
            });
        }
    });

    describe("a broken copy fails the validator", () => {
        const broken: Array<[string, string, (text: string) => string]> = [
            ["an unknown key on a job", "pull-request.yml", (t) => t.replace("    timeout-minutes: 45\n", "    timeout-minutes: 45\n    retries: 3\n")],
            ["an unknown key on a step", "pull-request.yml", (t) => t.replace("      - run: npm test\n", "      - run: npm test\n        timeout: 5\n")],
            ["a misspelt event", "pull-request.yml", (t) => t.replace("  pull_request:\n", "  pull_requests:\n")],
            ["an unknown permission", "pull-request.yml", (t) => t.replace("  id-token: write\n", "  id-tokens: write\n")],
            ["an environment on a job that calls a reusable workflow", "deploy.yml", (t) => t.replace("    uses: ./.github/workflows/pulumi.yml\n", "    environment: production\n    uses: ./.github/workflows/pulumi.yml\n")],
            ["a job without runs-on", "pulumi.yml", (t) => t.replace("    runs-on: ubuntu-latest\n", "")],
            ["a non-boolean cancel-in-progress", "deploy.yml", (t) => t.replace("cancel-in-progress: false", "cancel-in-progress: sometimes")],
        ];
        for (const [what, file, breakIt] of broken) {
            it(`${file} with ${what}`, () => {
                const original = source(file);
                const copy = breakIt(original);
                assert.notEqual(copy, original, "the edit did not apply: update this test with the workflow");
                assert.ok(validate(copy).length > 0, `the validator accepted ${file} with ${what}`);
            });
        }
    });

    describe("the reusable Pulumi workflow (pulumi.yml)", () => {
        const workflow = load("pulumi.yml");
        const job = workflow.jobs.pulumi as Json;

        it("is called with a command, a stack and an optional environment", () => {
            const call = workflow.on.workflow_call;
            assert.ok(call, "on: workflow_call");
            assert.deepEqual(Object.keys(call.inputs).sort(), ["command", "comment-on-pr", "environment", "stack", "stack-environment"]);
            assert.equal(call.inputs.command.required, true);
            assert.equal(call.inputs.stack.required, true);
            assert.equal(job.environment, "${{ inputs.environment }}");
        });

        it(`installs the program and the policy pack on Node ${NODE_MAJOR}, the Lambda runtime's, with the npm cache`, () => {
            assert.ok(usesStep(job, "actions/checkout"));
            const node = usesStep(job, "actions/setup-node");
            assert.equal(String(node?.with?.["node-version"]), NODE_MAJOR);
            assert.equal(node?.with?.cache, "npm");
            assert.ok(runs(job).some((r) => /^npm ci\b(?!.*--prefix)/.test(r)), "npm ci");
            assert.ok(runs(job).some((r) => r.includes('npm run --silent plan -- --stack "$STACK"')), "offline plan");
        });

        it("installs the devDependencies too: the program bundles function code with esbuild during preview and up", () => {
            const installs = runs(job).filter((r) => /^npm (ci|install)\b/.test(r));
            assert.ok(installs.length > 0, "no install step");
            for (const install of installs) assert.doesNotMatch(install, /--omit[= ]dev|--production|--only[= ]prod/, install);
            const environments = [workflow.env, job.env, ...steps(job).map((s) => s.env)];
            for (const env of environments) assert.notEqual(env?.NODE_ENV, "production", "NODE_ENV=production makes npm ci skip devDependencies");
            const manifest = JSON.parse(fs.readFileSync(path.join(REPOSITORY_ROOT, "package.json"), "utf8")) as { devDependencies: Record<string, string> };
            assert.match(manifest.devDependencies.esbuild ?? "", /^\d+\.\d+\.\d+$/, "esbuild is a pinned devDependency");
        });

        it("assumes the AWS role through OIDC, with no long-lived keys", () => {
            const aws = usesStep(job, "aws-actions/configure-aws-credentials");
            assert.ok(aws, "configure-aws-credentials");
            assert.match(aws.uses, /@v4$/);
            assert.match(aws.with["role-to-assume"], /vars\.AWS_DEPLOY_ROLE_ARN/);
            assert.ok(!("aws-access-key-id" in aws.with) && !("aws-secret-access-key" in aws.with));
            const names = ["pulumi.yml", "pull-request.yml", "deploy.yml"].map(source).join("\n");
            assert.doesNotMatch(names, /AWS_SECRET_ACCESS_KEY|aws-secret-access-key|AWS_ACCESS_KEY_ID/);
        });

        it("runs pulumi/actions@v6 with the policy pack and the stack's pack config", () => {
            const pulumi = usesStep(job, "pulumi/actions");
            assert.ok(pulumi, "pulumi/actions");
            assert.match(pulumi.uses, /@v6$/);
            const w = pulumi.with;
            assert.equal(w.command, "${{ inputs.command }}");
            assert.match(w["stack-name"], /inputs\.stack/);
            assert.equal(w["work-dir"], ".");
            assert.equal(w.policyPacks, "policy");
            // The environment's pack config, with what a service stack's rules need from its platform's outputs.
            assert.equal(w.policyPackConfigs, "pack-config.json");
            const configStep = steps(job).find((s) => s.name === "Policy pack config");
            assert.ok(configStep, "a step writes pack-config.json");
            assert.equal(interpolate(configStep.env.ENVIRONMENT, { inputs: { stack: "dev-users", "stack-environment": "dev" } }), "dev");
            assert.equal(interpolate(configStep.env.ENVIRONMENT, { inputs: { stack: "prod", "stack-environment": "" } }), "prod");
            assert.match(configStep.run, /if \[ "\$STACK" != "\$ENVIRONMENT" \] && \[ "\$STACK" != "\$ENVIRONMENT-platform" \]; then/);
            assert.match(configStep.run, /pulumi stack output --json --stack "\$platform" > platform-outputs\.json/);
            assert.match(configStep.run, /npm run --silent policy-config -- --environment "\$ENVIRONMENT" "\$\{args\[@\]\}" > pack-config\.json/);
            const order0 = steps(job).map((s) => s.name ?? s.uses);
            assert.ok(order0.indexOf("Pulumi CLI") < order0.indexOf("Policy pack config"), "the CLI is installed before the platform's outputs are read");
            assert.ok(order0.indexOf("Policy pack config") < steps(job).indexOf(pulumi), "the config is written before the command runs");
            assert.equal(w["comment-on-pr"], "${{ inputs.comment-on-pr }}");
            // The step order: install, plan, credentials, then Pulumi.
            const order = steps(job).map((s) => s.uses?.split("@")[0] ?? s.run?.split(" ").slice(0, 3).join(" "));
            assert.ok(order.indexOf("aws-actions/configure-aws-credentials") < order.indexOf("pulumi/actions"));
        });

        it("after an up, and never after a preview, runs the release step on the stack's releases output (the up's own stack), which fails the job when a release fails", () => {
            // Prepare
            const pulumi = usesStep(job, "pulumi/actions");
            const release = steps(job).find((s) => typeof s.run === "string" && s.run.includes("npm run --silent release"));
            const order = steps(job);
            // Assess
            assert.ok(release, "a release step");
            assert.equal(release.if, "inputs.command == 'up'");
            assert.ok(order.indexOf(pulumi!) < order.indexOf(release), "after pulumi up");
            assert.equal(release.env.STACK_NAME, pulumi!.with["stack-name"], "the stack the up deployed");
            const lines = String(release.run).trim().split("\n");
            assert.deepEqual(lines, ['npm run --silent release -- --stack "$STACK_NAME"']);
            assert.doesNotMatch(release.run, /\|\|\s*true|continue-on-error/, "a failed release must fail the job");
            assert.equal(release["continue-on-error"], undefined);
            const manifest = JSON.parse(fs.readFileSync(path.join(REPOSITORY_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
            assert.match(manifest.scripts.release, /tools\/release\.ts$/);
        });

        it("sets up QEMU (arm64) and buildx before an up, and not for a preview, which builds no image", () => {
            const qemu = usesStep(job, "docker/setup-qemu-action");
            const buildx = usesStep(job, "docker/setup-buildx-action");
            const order = steps(job).map((s) => s.uses?.split("@")[0]);
            assert.equal(qemu?.with?.platforms, "arm64");
            assert.equal(qemu?.if, "inputs.command == 'up'");
            assert.equal(buildx?.if, "inputs.command == 'up'");
            assert.ok(order.indexOf("docker/setup-buildx-action") < order.indexOf("pulumi/actions"));
        });

        it("supports both backends: Pulumi Cloud (token) and self-managed (URL + passphrase)", () => {
            assert.equal(job.env.PULUMI_ACCESS_TOKEN, "${{ secrets.PULUMI_ACCESS_TOKEN }}");
            assert.equal(job.env.PULUMI_CONFIG_PASSPHRASE, "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}");
            assert.equal(job.env.PULUMI_BACKEND_URL, "${{ vars.PULUMI_BACKEND_URL }}");
            assert.equal(usesStep(job, "pulumi/actions")?.with["cloud-url"], "${{ vars.PULUMI_BACKEND_URL }}");
            assert.deepEqual(Object.keys(workflow.on.workflow_call.secrets).sort(), ["PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE"]);
        });

        it("runs the program without a type check of the CLI's: the project's loader, and transpile-only should ts-node run it", () => {
            // Prepare
            const project = YAML.parse(fs.readFileSync(path.join(REPOSITORY_ROOT, "Pulumi.yaml"), "utf8")) as Json;
            const options = project.runtime.options;
            const nodeArgs = String(options.nodeargs).split(/\s+/);
            // Assess
            assert.equal(job.env.PULUMI_NODEJS_TRANSPILE_ONLY, "true");
            assert.equal(options.typescript, false);
            assert.deepEqual(nodeArgs.slice(0, 2), ["--require", "./tools/typescript-loader.js"]);
            assert.ok(fs.existsSync(path.join(REPOSITORY_ROOT, nodeArgs[1])), nodeArgs[1]);
        });

        it("asks for no permissions of its own: the caller's grant is the ceiling", () => {
            assert.equal(workflow.permissions, undefined);
            assert.equal(job.permissions, undefined);
            // A concurrency group here as well as in the caller would deadlock the two.
            assert.equal(job.concurrency, undefined);
        });

        it("has a pack config for every stack it can be given", () => {
            for (const stack of listStacks()) {
                assert.ok(fs.existsSync(path.join(REPOSITORY_ROOT, "policy", `config.${stack}.json`)), `policy/config.${stack}.json`);
            }
        });
    });

    describe("pull-request.yml", () => {
        const workflow = load("pull-request.yml");

        it("runs on pull requests with contents: read, pull-requests: write and id-token: write", () => {
            assert.ok("pull_request" in workflow.on);
            assert.deepEqual(workflow.permissions, { contents: "read", "pull-requests": "write", "id-token": "write" });
        });

        it("installs both packages, runs the tests, the offline policy run for both stacks and the plan", () => {
            const test = workflow.jobs.test as Json;
            assert.equal(String(usesStep(test, "actions/setup-node")?.with?.["node-version"]), NODE_MAJOR);
            assert.equal(usesStep(test, "actions/setup-node")?.with?.cache, "npm");
            const commands = runs(test);
            const index = (pattern: RegExp) => commands.findIndex((c) => pattern.test(c));
            const order = [/^npm ci\b(?!.*--prefix)/, /^npm test$/, /^npm run policy -- --stack dev$/, /^npm run policy -- --stack prod$/].map(index);
            assert.ok(order.every((i) => i >= 0), `missing a step: ${order}`);
            assert.deepEqual([...order].sort((a, b) => a - b), order, "steps out of order");
            assert.ok(commands.some((c) => c.includes("npm run --silent plan -- --stack dev --compare prod")));
        });

        it("after the tests, computes the stacks the change affects in every environment, from the diff with the base branch", () => {
            // Prepare
            const stacks = workflow.jobs.stacks as Json;
            const command = runs(stacks).find((r) => r.includes("npm run --silent affected-stacks"));
            // Assess
            assert.equal(stacks.needs, "test");
            assert.equal(usesStep(stacks, "actions/checkout")?.with?.["fetch-depth"], 0, "the whole history, for the diff");
            assert.ok(command, "the affected-stacks step");
            const environments = [...command.matchAll(/--environment (\S+)/g)].map((match) => match[1]);
            assert.deepEqual(environments.sort(), listStacks().sort());
            assert.match(command, /--base "origin\/\$BASE_REF" --github-output >> "\$GITHUB_OUTPUT"$/);
            assert.equal(steps(stacks).find((s) => s.run === command)?.env?.BASE_REF, "${{ github.base_ref }}");
            assert.deepEqual(stacks.outputs, { platform: "${{ steps.affected.outputs.platform }}", services: "${{ steps.affected.outputs.services }}" });
            assert.deepEqual(stacks.permissions, { contents: "read" });
        });

        it("previews each affected stack with the policy pack and the environment's pack config, commenting on the PR, in no environment", () => {
            assert.deepEqual(callers(workflow).map(([name]) => name), ["platform", "services"]);
            for (const [, preview] of callers(workflow)) {
                assert.equal(preview.with.command, "preview");
                assert.equal(preview.with.stack, "${{ matrix.target.stack }}");
                assert.equal(preview.with["stack-environment"], "${{ matrix.target.environment }}");
                assert.equal(preview.with["comment-on-pr"], true);
                assert.equal(preview.with.environment, undefined, "previews run in no environment (no reviewers to wait for)");
                assert.equal(preview.secrets, "inherit");
                assert.equal(preview.permissions["pull-requests"], "write");
                assert.equal(preview.permissions["id-token"], "write");
            }
        });

        it("skips previews for pull requests from forks (no secrets, no OIDC token there)", () => {
            const stacks = workflow.jobs.stacks as Json;
            const pr = (repo: string) => ({ github: { repository: "acme/platform", event: { pull_request: { head: { repo: { full_name: repo } } } } } });
            assert.equal(evaluate(stacks.if, pr("acme/platform")), true);
            assert.equal(evaluate(stacks.if, pr("someone/platform")), false);
        });
    });

    describe("deploy.yml", () => {
        const workflow = load("deploy.yml");
        const stacks = workflow.jobs.stacks as Json;

        it("triggers on pushes to main, release tags v* and a manual run choosing the environment", () => {
            assert.deepEqual(workflow.on.push.branches, ["main"]);
            assert.deepEqual(workflow.on.push.tags, ["v*"]);
            const environment = workflow.on.workflow_dispatch.inputs.environment;
            assert.equal(environment.type, "choice");
            assert.deepEqual([...environment.options].sort(), listStacks().sort());
        });

        it("runs pulumi up for each affected stack, through the reusable workflow with the policy pack", () => {
            assert.deepEqual(callers(workflow).map(([name]) => name), ["platform", "services"]);
            for (const [, job] of callers(workflow)) {
                assert.equal(job.with.command, "up");
                assert.equal(job.with.stack, "${{ matrix.target.stack }}");
                assert.equal(job.with["stack-environment"], "${{ matrix.target.environment }}");
                assert.equal(job.secrets, "inherit");
            }
        });

        it("deploys dev on a push to main and prod on a release tag or a manual run, nothing else", () => {
            const cases: Array<[string, Json, string | undefined]> = [
                ["push to main", { github: { event_name: "push", ref: "refs/heads/main" } }, "dev"],
                ["release tag", { github: { event_name: "push", ref: "refs/tags/v1.4.0" } }, "prod"],
                ["manual dev", { github: { event_name: "workflow_dispatch", ref: "refs/heads/main" }, inputs: { environment: "dev" } }, "dev"],
                ["manual prod from main", { github: { event_name: "workflow_dispatch", ref: "refs/heads/main" }, inputs: { environment: "prod" } }, "prod"],
                ["manual prod from a tag", { github: { event_name: "workflow_dispatch", ref: "refs/tags/v1.4.0" }, inputs: { environment: "prod" } }, "prod"],
                ["manual prod from a branch", { github: { event_name: "workflow_dispatch", ref: "refs/heads/feature" }, inputs: { environment: "prod" } }, undefined],
                ["push to another branch", { github: { event_name: "push", ref: "refs/heads/feature" } }, undefined],
            ];
            for (const [what, context, expected] of cases) {
                const deployed = evaluate(stacks.if, context) ? String(valueOf(stacks.env.ENVIRONMENT, context)) : undefined;
                assert.equal(deployed, expected, what);
            }
        });

        it("computes the affected stacks of that environment from the full history, every stack on a manual run", () => {
            const command = runs(stacks).find((r) => r.includes("npm run --silent affected-stacks"));
            assert.ok(command, "the affected-stacks step");
            assert.equal(usesStep(stacks, "actions/checkout")?.with?.["fetch-depth"], 0);
            assert.match(command, /^source=--all$/m, "every stack unless a push names a known base");
            assert.match(command, /--environment "\$ENVIRONMENT" \$source --github-output >> "\$GITHUB_OUTPUT"$/m);
            assert.equal(stacks.env.BEFORE, "${{ github.event.before }}");
        });

        it("deploys prod only in the production environment (required reviewers)", () => {
            for (const [name, job] of callers(workflow)) {
                assert.equal(valueOf(job.with.environment, { matrix: { target: { environment: "prod" } } }), "production", name);
                assert.equal(valueOf(job.with.environment, { matrix: { target: { environment: "dev" } } }), "dev", name);
            }
        });

        it("grants an OIDC token and nothing it does not need", () => {
            for (const permissions of [workflow.permissions, ...callers(workflow).map(([, j]) => j.permissions)]) {
                assert.deepEqual(permissions, { contents: "read", "id-token": "write" });
            }
            assert.deepEqual(stacks.permissions, { contents: "read" }, "the affected-stacks job touches no cloud");
        });
    });

    describe("delivery of only the affected stacks, platform first", () => {
        /** The context the jobs' conditions see once the stacks job has run. */
        const after = (outputs: { platform: unknown[]; services: unknown[] }, results: { stacks?: string; platform?: string }, status = "success") => ({
            $status: status,
            needs: {
                stacks: { result: results.stacks ?? "success", outputs: { platform: JSON.stringify(outputs.platform), services: JSON.stringify(outputs.services) } },
                platform: { result: results.platform ?? "success" },
            },
        });
        const platformStack = [{ stack: "dev-platform", environment: "dev" }];
        const serviceStacks = [{ stack: "dev-users", environment: "dev" }];

        for (const [file, kind] of [["pull-request.yml", "preview"], ["deploy.yml", "deploy"]] as const) {
            const workflow = load(file);
            const platform = workflow.jobs.platform as Json;
            const services = workflow.jobs.services as Json;

            describe(file, () => {
                it("runs the platform job after the stacks job, over its platform matrix, only when that matrix holds a stack", () => {
                    assert.equal(platform.needs, "stacks");
                    assert.equal(platform.strategy.matrix.target, "${{ fromJSON(needs.stacks.outputs.platform) }}");
                    assert.equal(evaluate(platform.if, after({ platform: platformStack, services: serviceStacks }, {})), true);
                    assert.equal(evaluate(platform.if, after({ platform: [], services: serviceStacks }, {})), false);
                });

                it("makes the service jobs need the platform job, over the services matrix", () => {
                    assert.deepEqual([...services.needs].sort(), ["platform", "stacks"]);
                    assert.equal(services.strategy.matrix.target, "${{ fromJSON(needs.stacks.outputs.services) }}");
                });

                it("runs the service jobs when the platform job succeeded or was skipped, never after it failed or was cancelled", () => {
                    const cases: Array<[string, Json, boolean]> = [
                        ["platform succeeded", after({ platform: platformStack, services: serviceStacks }, { platform: "success" }), true],
                        ["platform skipped (not affected)", after({ platform: [], services: serviceStacks }, { platform: "skipped" }), true],
                        ["platform failed", after({ platform: platformStack, services: serviceStacks }, { platform: "failure" }, "failure"), false],
                        ["platform cancelled", after({ platform: platformStack, services: serviceStacks }, { platform: "cancelled" }, "cancelled"), false],
                        ["run cancelled", after({ platform: [], services: serviceStacks }, { platform: "skipped" }, "cancelled"), false],
                        ["no service affected", after({ platform: platformStack, services: [] }, {}), false],
                        ["stacks job failed", after({ platform: [], services: [] }, { stacks: "failure", platform: "skipped" }, "failure"), false],
                    ];
                    for (const [what, context, expected] of cases) assert.equal(evaluate(services.if, context), expected, what);
                });

                it("keeps a one-stack environment working: its stack is a services matrix of one, with no platform job", () => {
                    // Prepare: what affected-stacks prints for a change to shared code in a one-stack dev
                    const matrices = ciMatrices([{ environment: "dev", layout: "one-stack", platform: true, services: ["users"], stacks: ["dev"] }]);
                    const context = after(matrices, { platform: "skipped" });
                    // Assess
                    assert.equal(evaluate(platform.if, context), false);
                    assert.equal(evaluate(services.if, context), true);
                    assert.deepEqual(matrices.services, [{ stack: "dev", environment: "dev" }]);
                });

                it("lets no stack's failure cancel the others' (fail-fast: false)", () => {
                    assert.equal(platform.strategy["fail-fast"], false);
                    assert.equal(services.strategy["fail-fast"], false);
                });

                it(`keeps one concurrency group per stack, never cancelling a running ${kind}`, () => {
                    for (const job of [platform, services]) {
                        assert.equal(job.concurrency["cancel-in-progress"], false);
                        const group = (stack: string) => interpolate(job.concurrency.group, { matrix: { target: { stack } }, github: { event: { pull_request: { number: 7 } } } });
                        assert.notEqual(group("dev-users"), group("dev-orders"), "two stacks, two groups");
                        assert.equal(interpolate(platform.concurrency.group, { matrix: { target: { stack: "dev-users" } }, github: { event: { pull_request: { number: 7 } } } }), group("dev-users"), "one stack, one group in both jobs");
                        assert.match(group("dev-users"), new RegExp(`^${kind}-dev-users\\b`));
                    }
                });

                it(kind === "deploy" ? "runs the release step after every up" : "never runs the release step (previews only)", () => {
                    const release = steps(load("pulumi.yml").jobs.pulumi).find((s) => typeof s.run === "string" && s.run.includes("npm run --silent release"))!;
                    for (const job of [platform, services]) {
                        assert.equal(evaluate(release.if, { inputs: { command: job.with.command } }), kind === "deploy");
                    }
                });
            });
        }
    });

    describe("every call of the reusable workflow", () => {
        const callee = load("pulumi.yml").on.workflow_call;
        for (const file of ["pull-request.yml", "deploy.yml"]) {
            const workflow = load(file);
            for (const [name, job] of callers(workflow)) {
                it(`${file} ${name}: passes known inputs, every required one, and grants what the callee uses`, () => {
                    const given = Object.keys(job.with ?? {});
                    for (const input of given) assert.ok(input in callee.inputs, `unknown input ${input}`);
                    for (const [input, spec] of Object.entries(callee.inputs as Json)) {
                        if (spec.required) assert.ok(given.includes(input), `missing required input ${input}`);
                    }
                    const granted = job.permissions ?? workflow.permissions;
                    assert.ok(GRANTS[granted["id-token"]] >= GRANTS.write, "id-token: write for OIDC");
                    assert.ok(GRANTS[granted.contents] >= GRANTS.read, "contents: read for checkout");
                    if (job.with?.["comment-on-pr"]) assert.equal(granted["pull-requests"], "write", "pull-requests: write to comment");
                });
            }
        }
    });
});
