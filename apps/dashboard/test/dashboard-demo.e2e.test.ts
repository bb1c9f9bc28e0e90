import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ServerProcess, startServerProcess } from "@codex-img/server/testing";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, SHOTS } from "./support/browser.js";

const ADMIN_PASSWORD = "e2e demo horse battery";

/**
 * A fresh install without a Codex login, as a new user meets it: the demo backend serves, one Codex home
 * is configured but logged out. The overview must say what that home needs and count the demo's work.
 */
describe("the dashboard in demo mode", () => {
  let dir: string;
  let server: ServerProcess | undefined;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    browser = await launchChromium();
    dir = await mkdtemp(join(tmpdir(), "codex-img-dashboard-demo-"));
    server = await startServerProcess({
      args: ["--port", "0", "--data-dir", join(dir, "data")],
      env: { HOME: dir, CODEX_HOMES: `work=${join(dir, "logged-out")}`, ADMIN_PASSWORD },
      cwd: dir,
    });
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    if (server?.child.exitCode === null) await server.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("shows the configured Codex home and what it needs, and the demo backend's usage", async () => {
    for (const prompt of ["a red fox", "a blue fox"]) {
      const reply = await fetch(`${server?.url}/v1/images/generate`, {
        method: "POST",
        headers: { authorization: `Bearer ${server?.firstKey}`, "content-type": "application/json" },
        body: JSON.stringify({ prompt }),
      });
      expect(reply.status).toBe(200);
    }
    await page.goto(`${server?.url}/admin/login/`);
    await page.getByLabel("Admin password").fill(ADMIN_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${server?.url}/admin/`);
    await page.getByTestId("demo-banner").waitFor();
    const home = page.getByTestId("codex-home-card");
    await home.waitFor();
    expect(await home.textContent()).toContain("work");
    expect(await home.getByTestId("codex-home-needs").textContent()).toMatch(/Needs a login/);
    expect(await page.getByTestId("login-banner").textContent()).toContain("work");
    expect(await page.getByText("No accounts").count()).toBe(0);
    const week = page.getByTestId("usage-summary").locator('[data-range="Last 7 days"]');
    await expect.poll(() => week.textContent()).toMatch(/2\s*Requests\s*2\s*Images\s*0\s*Failures/);
    await page.getByRole("cell", { name: "first key" }).waitFor();
    await page.screenshot({ path: join(SHOTS, "overview-demo.png"), fullPage: true });
  });
});
