/**
 * A headless Chromium for the browser tests, driven by playwright-core: the system's Chromium
 * (`CHROMIUM_PATH`, else Debian's `/usr/bin/chromium`), never a browser download of its own.
 */
import * as fs from "node:fs";
import { chromium, type Browser } from "playwright-core";

/** Where the browser is: `CHROMIUM_PATH`, else the first of the usual system paths that exists. */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
    // Debian's and Ubuntu's Chromium, or the Chrome that GitHub's Ubuntu runners carry.
    const candidates = [env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].filter((candidate): candidate is string => !!candidate);
    const found = candidates.find((candidate) => fs.existsSync(candidate));
    if (!found) throw new Error(`No Chromium at ${candidates.join(" or ")}: install Debian's (apt-get install chromium) or set CHROMIUM_PATH.`);
    return found;
}

export async function launchChromium(): Promise<Browser> {
    // Chromium's sandbox refuses to start as root (CI runs as root).
    const asRoot = typeof process.getuid === "function" && process.getuid() === 0;
    return chromium.launch({ executablePath: chromiumPath(), headless: true, args: asRoot ? ["--no-sandbox"] : [] });
}
