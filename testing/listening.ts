/**
 * Which addresses a TCP port is listened on, read from the kernel's socket tables (Linux's
 * `/proc/net/tcp` and `tcp6`), so a test can prove a process is bound to loopback only, which no
 * connection from this machine can tell apart from all interfaces.
 */
import * as fs from "node:fs";

const LISTEN = "0A";

/** The IPv4 address of a `/proc/net/tcp` entry: four bytes, little-endian hex. */
function ipv4(hex: string): string {
    return [6, 4, 2, 0].map((at) => parseInt(hex.slice(at, at + 2), 16)).join(".");
}

/** The IPv6 address of a `/proc/net/tcp6` entry: four 32-bit words, each little-endian hex, compressed the usual way for the two that matter. */
function ipv6(hex: string): string {
    const bytes = [0, 8, 16, 24].flatMap((word) => [6, 4, 2, 0].map((at) => hex.slice(word + at, word + at + 2)));
    const groups = Array.from({ length: 8 }, (_, index) => parseInt(bytes[index * 2] + bytes[index * 2 + 1], 16).toString(16));
    const text = groups.join(":");
    if (text === "0:0:0:0:0:0:0:0") return "::";
    if (text === "0:0:0:0:0:0:0:1") return "::1";
    if (text.startsWith("0:0:0:0:0:ffff:")) return `::ffff:${ipv4(hex.slice(24))}`;
    return text;
}

/** The local addresses with a socket listening on `port`, e.g. `["127.0.0.1"]` or `["::"]` (every interface). */
export function listeningAddresses(port: number): string[] {
    const found: string[] = [];
    for (const [file, address] of [["/proc/net/tcp", ipv4], ["/proc/net/tcp6", ipv6]] as const) {
        let table: string;
        try {
            table = fs.readFileSync(file, "utf8");
        } catch {
            continue; // no IPv6 on this machine
        }
        for (const line of table.split("\n").slice(1)) {
            const [, local, , state] = line.trim().split(/\s+/);
            if (!local || state !== LISTEN) continue;
            const [hex, portHex] = local.split(":");
            if (parseInt(portHex, 16) === port) found.push(address(hex));
        }
    }
    return found;
}
