// Builds the dashboard's static export when it is missing or older than its sources, so `bun run start`
// on a fresh clone serves /admin/ without a separate step, and a restart after `git pull` picks up changes.
// Runs on Node or Bun; `next build` itself runs on Node. A failed build stops `--strict` callers (the test
// command); `bun run start` goes on without the dashboard, since the API does not need it.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const marker = join(root, "out", "index.html");
const inputs = [
  "src",
  "public",
  "next.config.mjs",
  "next.config.ts",
  "package.json",
  "postcss.config.mjs",
  "tsconfig.json",
];

function newest(path) {
  if (!existsSync(path)) return 0;
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  return readdirSync(path).reduce((max, name) => Math.max(max, newest(join(path, name))), info.mtimeMs);
}

const builtAt = existsSync(marker) ? statSync(marker).mtimeMs : 0;
const changedAt = Math.max(...inputs.map((input) => newest(join(root, input))));
if (builtAt > changedAt) process.exit(0);

console.error(builtAt === 0 ? "Building the dashboard (first start)…" : "Rebuilding the dashboard…");
const result = spawnSync("npx", ["--no-install", "next", "build"], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
});
if (result.status === 0) process.exit(0);
console.error("The dashboard build failed (see above); /admin/ will say so until it is built.");
process.exit(process.argv.includes("--strict") ? 1 : 0);
