/**
 * A PostgreSQL server's first words, stood in for: it asks a connecting client for a cleartext
 * password (as Aurora does for an IAM-authenticated user over TLS), records what the client sends,
 * and refuses the session. The archive tests use it to read the IAM token a function signs.
 */
import * as net from "node:net";

export interface PasswordCapture {
    port: number;
    /** What each connection sent: its user (from the startup message) and password. */
    received: Array<{ user: string; password: string }>;
    close(): Promise<void>;
}

export function startPasswordCapture(): Promise<PasswordCapture> {
    const received: PasswordCapture["received"] = [];
    const server = net.createServer((socket) => {
        let buffer = Buffer.alloc(0);
        let user = "";
        let answered = false;
        socket.on("data", (chunk) => {
            if (answered) return; // what a refused client still sends (its Terminate)
            buffer = Buffer.concat([buffer, chunk]);
            if (!user) {
                if (buffer.length < 4 || buffer.length < buffer.readInt32BE(0)) return;
                const length = buffer.readInt32BE(0);
                // Startup message: length, protocol version, then "name\0value\0" pairs.
                const pairs = buffer.subarray(8, length).toString("utf8").split("\0");
                user = pairs[pairs.indexOf("user") + 1] ?? "?";
                buffer = buffer.subarray(length);
                socket.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3])); // AuthenticationCleartextPassword
            }
            if (buffer.length < 5 || buffer[0] !== 0x70 || buffer.length < 1 + buffer.readInt32BE(1)) return;
            const password = buffer.subarray(5, 1 + buffer.readInt32BE(1)).toString("utf8").replace(/\0$/, "");
            received.push({ user, password });
            answered = true;
            const fields = Buffer.from("SFATAL\0C28000\0Mcaptured by the test\0\0", "utf8");
            const header = Buffer.alloc(5);
            header.write("E", 0);
            header.writeInt32BE(4 + fields.length, 1);
            socket.end(Buffer.concat([header, fields]));
        });
        socket.on("error", () => undefined);
    });
    return new Promise((resolve) =>
        server.listen(0, "127.0.0.1", () =>
            resolve({
                port: (server.address() as net.AddressInfo).port,
                received,
                close: () => new Promise((done) => server.close(() => done())),
            }),
        ),
    );
}
