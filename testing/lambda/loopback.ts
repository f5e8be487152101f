/** Where the local stand-ins of AWS APIs listen: a free port on loopback, never past it. */
import type * as http from "node:http";
import type { AddressInfo } from "node:net";

/** Listens on a free loopback port; resolves with the server's URL and how to close it. */
export function listenOnLoopback(server: http.Server): Promise<{ url: string; close(): Promise<void> }> {
    return new Promise((resolve) =>
        server.listen(0, "127.0.0.1", () =>
            resolve({
                url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
                close: () => new Promise<void>((done) => server.close(() => done())),
            }),
        ),
    );
}
