/**
 * `bun run release [--targets linux-x64,…] [--only packages|executables] [--out DIR]`: npm tarballs of the
 * public packages and single-file executables of the CLI and the server, in ./release/ (git-ignored).
 * See docs/deployment.md (Release builds).
 */
import { spawnSync } from "node:child_process";
import { mkdir, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { compileExecutables, TARGETS, type Target } from "./release/compile-executables.ts";
import { packPackages } from "./release/pack-packages.ts";

const root = resolve(import.meta.dir, "..");
const { values } = parseArgs({
  options: {
    targets: { type: "string", default: Object.keys(TARGETS).join(",") },
    out: { type: "string", default: join(root, "release") },
    only: { type: "string" },
  },
});
if (values.only !== undefined && values.only !== "packages" && values.only !== "executables") {
  console.error("--only takes `packages` or `executables`.");
  process.exit(2);
}
const packages = values.only !== "executables";
const executables = values.only !== "packages";
const targets = values.targets.split(",").filter(Boolean);
const unknown = targets.filter((target) => !(target in TARGETS));
if (unknown.length > 0) {
  console.error(`Unknown target ${unknown.join(", ")}; known: ${Object.keys(TARGETS).join(", ")}.`);
  process.exit(2);
}
const out = resolve(values.out);
const stage = join(out, ".stage");

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit" });
  if (result.status !== 0) {
    console.error(`\`${command} ${args.join(" ")}\` failed; nothing was released.`);
    process.exit(1);
  }
}

await rm(out, { recursive: true, force: true });
await mkdir(stage, { recursive: true });
// The packages ship `dist/`; the server executable embeds the dashboard's static export.
if (packages) {
  run(join(root, "node_modules/.bin/tsc"), ["-b", "packages/client"]);
  for (const tarball of await packPackages(root, out, stage)) console.log(`package     ${tarball}`);
}
if (executables) run(process.execPath, ["apps/dashboard/scripts/ensure-built.mjs", "--strict"]);
let failed = false;
for (const target of executables ? (targets as Target[]) : []) {
  const result = await compileExecutables(root, out, stage, target);
  for (const file of result.built) console.log(`executable  ${file}`);
  for (const reason of result.skipped) console.log(`skipped     ${reason}`);
  // The host's own executables must build; other targets depend on what the registry serves.
  if (target === "linux-x64" && result.skipped.length > 0) failed = true;
}
await rm(stage, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
