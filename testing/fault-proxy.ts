/**
 * A TCP proxy in front of a real PostgreSQL that misbehaves on request, the way the network and
 * Aurora do: it holds new connections silent (a paused Serverless v2 cluster while it resumes),
 * refuses them (a reboot or failover), loses the server's answer to a statement after the server
 * ran it, or keeps what the server sent (its goodbye when it ended a session) from the client until
 * the client speaks again (a frozen Lambda container, which reads nothing until its next event).
 */
import * as net from "node:net";

export interface FaultProxy {
    readonly port: number;
    /** `postgres://...@127.0.0.1:<proxy port>/<database>`: the target's URL through the proxy. */
    url(targetUrl: string): string;
    /** Client connections accepted so far. */
    connections(): number;
    /**
     * For `ms` from now, accept new connections and say nothing on them; when the window ends,
     * forward those still open, as a resuming cluster finally answers the connections it held.
     * Resolves when the window ends.
     */
    holdNewConnections(ms: number): Promise<void>;
    /** For `ms` from now, nothing listens: new connections are refused. Resolves when it listens again. */
    refuseNewConnections(ms: number): Promise<void>;
    /**
     * The next server answer containing `marker` (e.g. `"INSERT 0 1"`, the tag of a completed
     * INSERT) is not delivered: the connection is cut instead. The server has run the statement; the
     * client cannot know. Resolves when it happened.
     */
    loseAnswerContaining(marker: string): Promise<void>;
    /** From now on, each open connection keeps what the server sends, its close included, until its client next writes. */
    freezeOpenConnections(): void;
    close(): Promise<void>;
}

interface Link {
    client: net.Socket;
    upstream: net.Socket;
    frozen: boolean;
    held: Buffer[];
    upstreamEnded: boolean;
}

export async function startFaultProxy(targetPort: number, targetHost = "127.0.0.1"): Promise<FaultProxy> {
    let accepted = 0;
    let holdUntil = 0;
    const heldClients = new Set<net.Socket>();
    const links = new Set<Link>();
    let answerToLose: { marker: string; lost: () => void } | undefined;

    const thaw = (link: Link) => {
        link.frozen = false;
        for (const chunk of link.held.splice(0)) link.client.write(chunk);
        if (link.upstreamEnded) link.client.end();
    };

    const forward = (client: net.Socket) => {
        const upstream = net.connect(targetPort, targetHost);
        const link: Link = { client, upstream, frozen: false, held: [], upstreamEnded: false };
        links.add(link);
        client.on("data", (chunk: Buffer) => {
            if (link.frozen) thaw(link);
            if (!link.upstreamEnded) upstream.write(chunk);
        });
        upstream.on("data", (chunk: Buffer) => {
            if (link.frozen) {
                link.held.push(chunk);
                return;
            }
            if (answerToLose && chunk.includes(answerToLose.marker)) {
                const { lost } = answerToLose;
                answerToLose = undefined;
                client.destroy();
                upstream.destroy();
                lost();
                return;
            }
            client.write(chunk);
        });
        upstream.on("close", () => {
            link.upstreamEnded = true;
            if (!link.frozen) client.end();
        });
        client.on("close", () => {
            links.delete(link);
            upstream.destroy();
        });
        upstream.on("error", () => undefined); // surfaces as "close"
        client.on("error", () => upstream.destroy());
    };

    const server = net.createServer((client) => {
        accepted++;
        if (Date.now() < holdUntil) {
            heldClients.add(client);
            client.on("close", () => heldClients.delete(client));
            client.on("error", () => client.destroy());
            return;
        }
        forward(client);
    });
    const listen = (port: number) => new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => {
            server.off("error", reject);
            resolve();
        });
    });
    await listen(0);
    const port = (server.address() as net.AddressInfo).port;

    return {
        port,
        url(targetUrl) {
            const url = new URL(targetUrl);
            url.host = `127.0.0.1:${port}`;
            return url.toString();
        },
        connections: () => accepted,
        holdNewConnections(ms) {
            holdUntil = Date.now() + ms;
            return new Promise((resolve) =>
                setTimeout(() => {
                    holdUntil = 0;
                    for (const client of heldClients) {
                        client.removeAllListeners("close");
                        forward(client);
                    }
                    heldClients.clear();
                    resolve();
                }, ms),
            );
        },
        refuseNewConnections(ms) {
            server.close();
            return new Promise((resolve, reject) => setTimeout(() => listen(port).then(resolve, reject), ms));
        },
        loseAnswerContaining(marker) {
            return new Promise((lost) => (answerToLose = { marker, lost }));
        },
        freezeOpenConnections() {
            for (const link of links) link.frozen = true;
        },
        async close() {
            for (const client of heldClients) client.destroy();
            for (const link of links) {
                link.client.destroy();
                link.upstream.destroy();
            }
            await new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
        },
    };
}
