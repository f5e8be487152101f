import { main } from "./tools/plan";
import { eventRegistry } from "./tests/fixtures/event-services";
main(["--stack", process.argv[2] ?? "dev", ...process.argv.slice(3)], { out: (t) => console.log(t), err: (t) => console.error(t), typeCheck: false, services: eventRegistry }).then((c) => console.log("exit", c));
