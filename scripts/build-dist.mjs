// `prepare` (runs after `bun install`): builds the `dist/` of the packages Node consumers import
// (@codex-img/core, db, api, client), so the library, the examples and packages/client/bin work on Node
// straight from a checkout. Skipped, not failed, where there is nothing to build with: a production install
// without TypeScript, or a Docker layer that holds only the package.json files.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
if (!existsSync(tsc) || !existsSync(join(root, "packages", "client", "tsconfig.json"))) {
  console.error("prepare: TypeScript or the sources are missing; dist/ not built (Bun runs the sources).");
  process.exit(0);
}
const result = spawnSync(process.execPath, [tsc, "-b", join(root, "packages", "client")], {
  stdio: "inherit",
});
process.exit(result.status ?? 1);
