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
