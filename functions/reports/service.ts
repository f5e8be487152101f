import { defineContainerService } from "../runtime/container";

/**
 * Reports that are too heavy to recompute per request: a long-lived process computes each once
 * and keeps it warm for the requests after it, which a function (a fresh container per burst of
 * traffic, frozen between requests) cannot do. It runs as a container: on Fargate in the cloud,
 * as `node server.mjs` (or its image, when Docker is there) under `npm start`.
 */
export default defineContainerService({
    kind: "container",
    name: "reports",
    description: "Computes reports once and keeps them warm in a long-lived process.",
    database: false,
    image: { context: __dirname },
    port: 8080,
    cpu: 256,
    memoryMb: 512,
    healthCheckPath: "/health",
    timeoutSeconds: 29,
    // Dev idles at no compute cost (its routes answer 503); prod keeps one task and scales on CPU.
    scaling: { default: { minTasks: 0, maxTasks: 1 }, prod: { minTasks: 1, maxTasks: 3 } },
    local: { command: ["node", "server.mjs"] },
    routes: {
        "GET /reports/primes": { auth: "jwt", description: "How many primes there are below a number, and the largest." },
    },
});
