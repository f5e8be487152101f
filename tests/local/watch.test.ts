/** Which file changes watch mode takes for edits: an editor's scratch files are not. */
import * as assert from "node:assert/strict";
import { isEditorTempFile } from "../../local/watch";

describe("watch mode's editor scratch files", () => {
    it("passes over swap files, backups, autosaves, locks, .tmp saves and Vim's 4913 write test", () => {
        for (const file of ["functions/x/.service.ts.swp", "functions/x/.service.ts.swo", "service.ts~", "functions/x/#service.ts#", "functions/x/.#service.ts", "service.ts.tmp", "functions/x/4913", "service.ts___jb_tmp___", "service.ts___jb_old___"]) {
            assert.equal(isEditorTempFile(file), true, file);
        }
    });

    it("takes service files, migrations and the registry", () => {
        for (const file of ["functions/orders/service.ts", "functions/orders/migrations/0001_create_orders.sql", "infra/registry.ts", "functions/x/swap.ts", "functions/4913/service.ts", "functions/x/notes.tmpl.ts"]) {
            assert.equal(isEditorTempFile(file), false, file);
        }
    });
});
