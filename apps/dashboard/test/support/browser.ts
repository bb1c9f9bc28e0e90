import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { REPO_ROOT } from "@codex-img/server/testing";
import { type Browser, chromium } from "playwright-core";

/** Screenshots of the e2e runs: CI keeps this folder; docs/dashboard.md shows copies. */
export const SHOTS = join(REPO_ROOT, "artifacts", "dashboard");

/**
 * Debian's Chromium (`node scripts/ensure-chromium.mjs`, or CHROMIUM_PATH), launched headless for the
 * dashboard's e2e files, once the dashboard has been built.
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find(
    (path): path is string => Boolean(path && existsSync(path)),
  );
  if (!executablePath)
    throw new Error("Chromium not found: run `node scripts/ensure-chromium.mjs` or set CHROMIUM_PATH.");
  if (!existsSync(join(REPO_ROOT, "apps/dashboard/out/index.html"))) {
    throw new Error("The dashboard is not built: run `bun run build:dashboard` first (`bun run test` does).");
  }
  await mkdir(SHOTS, { recursive: true });
  return chromium.launch({
    executablePath,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
