/** How a tool runs as a command: `main` resolves with the exit code; an error it throws is printed and exits 2. */
export function runAsCommand(main: (argv: readonly string[]) => Promise<number>): void {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (error) => {
            console.error(error instanceof Error ? error.message : error);
            process.exit(2);
        },
    );
}

/** Where a command's `main` writes by default: standard output and error, each text ending in one newline. */
export const STANDARD_IO = {
    out: (text: string) => void process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
    err: (text: string) => void process.stderr.write(text.endsWith("\n") ? text : `${text}\n`),
};
