import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type CodexHomeFixture,
  createCodexHome,
  type FakeCodexBackend,
  startFakeCodexBackend,
  testImage,
} from "@codex-img/core/testing";
import { fakeUpstreamArgs, type ServerProcess, startServerProcess } from "@codex-img/server/testing";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, SHOTS } from "./support/browser.js";

/**
 * The owner's whole round in the real dashboard: Debian's Chromium (playwright-core) against the real
 * server process, whose Codex login talks to the loopback fake upstream. Screenshots of every page go to
 * `artifacts/dashboard/` (CI keeps them; docs/dashboard.md shows copies).
 */

const ADMIN_PASSWORD = "e2e correct horse battery";

describe("the dashboard in Chromium", () => {
  let dir: string;
  let upstream: FakeCodexBackend;
  let login: CodexHomeFixture;
  let server: ServerProcess | undefined;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let base = "";
  let rawKey = "";
  let jobId = "";
  const consoleErrors: string[] = [];

  const shot = (name: string, target: Page = page) =>
    target.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const nav = async (name: string) => {
    await page.getByRole("link", { name, exact: true }).first().click();
  };

  beforeAll(async () => {
    browser = await launchChromium();
    dir = await mkdtemp(join(tmpdir(), "codex-img-dashboard-e2e-"));
    // The responses route streams partial images; the native route is missing for this account, so
    // the backend falls back to it and the playground has partials to show.
    upstream = await startFakeCodexBackend({
      defaults: {
        images: { kind: "route_missing" },
        responses: { kind: "image", partials: 2, eventDelayMs: 150 },
      },
    });
    login = await createCodexHome({ email: "owner@example.com", plan: "plus" });
    server = await startServerProcess({
      args: ["--port", "0", "--data-dir", join(dir, "data"), ...fakeUpstreamArgs(upstream)],
      env: { HOME: dir, CODEX_HOMES: `main=${login.home}`, ADMIN_PASSWORD },
      cwd: dir,
    });
    base = server.url;
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    // Anything the Content-Security-Policy blocks shows up as a console error; the last test checks.
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    if (server?.child.exitCode === null) await server.stop();
    await upstream?.close();
    await login?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("sends a visitor without a session to the sign-in page, and signs in", async () => {
    await page.goto(`${base}/admin/`);
    await page.waitForURL(/\/admin\/login\/$/);
    await page.getByLabel("Admin password").fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("alert").first().textContent()).toMatch(/wrong password/i);
    await shot("login");
    await page.getByLabel("Admin password").fill(ADMIN_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${base}/admin/`);
    await page.getByTestId("account-card").first().waitFor();
    const card = await page.getByTestId("account-card").first().textContent();
    expect(card).toContain("main");
    expect(card).toMatch(/plus/i);
    expect(await page.getByTestId("demo-banner").count()).toBe(0);
    await page.getByTestId("queue-depth").waitFor();
    await shot("overview");
  });

  it("creates a key and shows the raw key once", async () => {
    await nav("Keys");
    await page.getByRole("button", { name: "New key" }).click();
    await page.getByLabel("Name", { exact: true }).fill("e2e-bot");
    await page.getByRole("button", { name: "Create key" }).click();
    const shown = page.getByTestId("raw-key");
    await shown.waitFor();
    rawKey = ((await shown.textContent()) ?? "").match(/cimg_[A-Za-z0-9_-]+/)?.[0] ?? "";
    expect(rawKey).toMatch(/^cimg_[A-Za-z0-9_-]{43}$/);
    await page.locator('[data-testid="key-row"][data-key-name="e2e-bot"]').waitFor();
    await shot("keys-created");
    // The key works for a real call…
    const ok = await fetch(`${base}/v1/jobs`, { headers: { authorization: `Bearer ${rawKey}` } });
    expect(ok.status).toBe(200);
    // …and is never shown again.
    await page.reload();
    await page.locator('[data-testid="key-row"][data-key-name="e2e-bot"]').waitFor();
    expect(await page.getByTestId("raw-key").count()).toBe(0);
    expect(await page.content()).not.toContain(rawKey);
    await shot("keys");
  });

  it("generates in the playground with a reference image, as the key, and watches it finish", async () => {
    await nav("Playground");
    await page.getByLabel("Prompt").fill("a lighthouse at dawn, in the style of the reference");
    await page.getByTestId("reference-input").setInputFiles({
      name: "reference.png",
      mimeType: "image/png",
      buffer: Buffer.from(await testImage("png", 64, 64)),
    });
    await page.getByLabel("Send as").selectOption({ label: "e2e-bot" });
    await page.getByRole("button", { name: "Generate" }).click();
    const status = page.getByTestId("job-status");
    await expect.poll(() => status.textContent(), { timeout: 30_000 }).toMatch(/succeeded/i);
    await page.getByTestId("result-image").first().waitFor();
    expect(await page.getByTestId("partial-image").count()).toBeGreaterThan(0);
    // No stage chip ("generating") is left once the job has succeeded.
    expect(await page.getByRole("list", { name: "Progress" }).count()).toBe(0);
    const href = (await page.getByTestId("job-link").getAttribute("href")) ?? "";
    jobId = /img_[a-z2-7]{26}/.exec(href)?.[0] ?? "";
    expect(jobId).not.toBe("");
    await shot("playground");
    // The upstream got the reference and the request went to the account's Codex login.
    const responses = upstream.requests.filter((request) => request.url.endsWith("/responses"));
    expect(JSON.stringify(responses.at(-1)?.json ?? null)).toContain("input_image");
  });

  it("finds the job in history and shows its attempts and events", async () => {
    await nav("History");
    const row = page.locator(`[data-testid="history-row"][data-job-id="${jobId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain("e2e-bot");
    await page.getByLabel("Search prompts").fill("lighthouse");
    await row.waitFor();
    await shot("history");
    await row.getByRole("link").first().click();
    await page.waitForURL(/\/admin\/history\/job\/\?id=img_/);
    const attempt = page.getByTestId("attempt").first();
    await attempt.waitFor();
    const text = (await attempt.textContent()) ?? "";
    expect(text).toContain("main");
    expect(text).toContain("responses");
    expect(await page.getByTestId("event").count()).toBeGreaterThan(2);
    await shot("job-detail");
  });

  it("shows the audit log and runs cleanup from the settings", async () => {
    await nav("Audit");
    await page.getByTestId("audit-row").first().waitFor();
    expect(await page.getByTestId("audit-row").allTextContents()).toEqual(
      expect.arrayContaining([expect.stringContaining("key.create")]),
    );
    // Details are fields, not a JSON string.
    const details = page.getByTestId("audit-details").first();
    await details.waitFor();
    expect(await details.locator("dt").count()).toBeGreaterThan(0);
    expect(await details.textContent()).not.toContain("{");
    await shot("audit");
    await nav("Settings");
    await page.getByRole("button", { name: "Run cleanup now" }).click();
    await expect.poll(() => page.getByTestId("cleanup-result").textContent()).toMatch(/expired 0 jobs/i);
    await shot("settings");
  });

  it("disables the key, after which a call with it is refused", async () => {
    await nav("Keys");
    const row = page.locator('[data-testid="key-row"][data-key-name="e2e-bot"]');
    await row.getByRole("button", { name: "Disable" }).click();
    await row.getByRole("button", { name: "Enable" }).waitFor();
    const refused = await fetch(`${base}/v1/jobs`, { headers: { authorization: `Bearer ${rawKey}` } });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: { reason: "disabled" } });
  });

  it("rotates and deletes a key with the keyboard alone, each after a confirmation", async () => {
    const row = page.locator('[data-testid="key-row"][data-key-name="e2e-bot"]');
    await row.getByRole("button", { name: "Enable" }).click();
    await row.getByRole("button", { name: "Disable" }).waitFor();

    // Enter opens the dialog; Escape closes it and nothing happens.
    await row.getByRole("button", { name: "Rotate" }).focus();
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    expect(await page.getByTestId("raw-key").count()).toBe(0);

    // Enter, then Tab from Cancel to the confirming button, then Enter: a new raw key, shown once.
    await row.getByRole("button", { name: "Rotate" }).focus();
    await page.keyboard.press("Enter");
    await dialog.waitFor();
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    const shown = page.getByTestId("raw-key");
    await shown.waitFor();
    const rotated = ((await shown.textContent()) ?? "").match(/cimg_[A-Za-z0-9_-]+/)?.[0] ?? "";
    expect(rotated).toMatch(/^cimg_/);
    expect(rotated).not.toBe(rawKey);
    const call = (key: string) => fetch(`${base}/v1/jobs`, { headers: { authorization: `Bearer ${key}` } });
    expect((await call(rotated)).status).toBe(200);
    expect(await (await call(rawKey)).json()).toMatchObject({ error: { reason: "unknown_key" } });
    await shot("keys-rotated");

    await row.getByRole("button", { name: "Delete" }).focus();
    await page.keyboard.press("Enter");
    await dialog.waitFor();
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await row.waitFor({ state: "detached" });
    expect((await call(rotated)).status).toBe(401);
  });

  it("follows server events on the overview instead of polling, and forecasts the wall honestly", async () => {
    // Arriving may read the overview once (earlier tests' jobs invalidated it, and the cached copy renders
    // before that read is sent): let it finish, then count. What must not happen is a read while waiting.
    let inFlight = 0;
    const onSettled = (request: { url(): string }) => {
      if (request.url().includes("system.overview")) inFlight -= 1;
    };
    const onRequest = (request: { url(): string }) => {
      if (!request.url().includes("system.overview")) return;
      inFlight += 1;
      reads.push(request.url());
    };
    let reads: string[] = [];
    page.on("request", onRequest);
    page.on("requestfinished", onSettled);
    page.on("requestfailed", onSettled);
    await nav("Overview");
    await page.getByTestId("account-card").first().waitFor();
    // The read starts in an effect after the cached copy is on screen: give it a moment to be sent.
    await page.waitForTimeout(500);
    await expect.poll(() => inFlight).toBe(0);
    reads = [];
    // A job submitted elsewhere shows up through the `system.live` subscription. (Another size: the runner
    // refuses an image byte-identical to an earlier job's.)
    upstream.defaults.responses = { kind: "image", width: 1100, height: 1024 };
    const queued = await fetch(`${base}/v1/images/jobs`, {
      method: "POST",
      headers: { authorization: `Bearer ${server?.firstKey}`, "content-type": "application/json" },
      body: JSON.stringify({ prompt: "a job the overview should see" }),
    });
    expect(queued.status).toBe(202);
    await expect
      .poll(
        async () => {
          const text = (await page.getByTestId("account-card").first().textContent()) ?? "";
          return /Images 5 h \/ 24 h \/ 48 h\s*2 \/ 2 \/ 2/.test(text);
        },
        { timeout: 30_000 },
      )
      .toBe(true);
    page.off("request", onRequest);
    page.off("requestfinished", onSettled);
    page.off("requestfailed", onSettled);
    expect(reads).toEqual([]);
    // Two images a day keep the 48 h window near 4 of 320: never reached at this rate.
    expect(await page.getByRole("region", { name: "Usage" }).textContent()).toMatch(
      /Not at this rate: 2\/day keeps the 48 h window near 4 of 320/,
    );
    const summary = page.getByTestId("usage-summary");
    await expect
      .poll(() => summary.locator('[data-range="Last 7 days"]').textContent())
      .toMatch(/2\s*Requests\s*2\s*Images\s*0\s*Failures/);
    await shot("overview-usage");
  });

  it("has accounts and usage pages, and a styled not-found page inside the layout", async () => {
    await nav("Accounts");
    await page.waitForURL(`${base}/admin/accounts/`);
    await page.getByTestId("account-card").first().waitFor();
    await shot("accounts");
    await nav("Usage");
    await page.waitForURL(`${base}/admin/usage/`);
    // The playground's job (its key deleted since) and the REST job of the first key.
    await expect.poll(() => page.getByTestId("usage-key-row").count()).toBe(2);
    await shot("usage");
    await page.goto(`${base}/admin/no-such-page/`);
    await page.getByTestId("not-found").waitFor();
    expect(await page.getByRole("navigation", { name: "Main" }).count()).toBe(1);
    await shot("not-found");
  });

  it("fits a phone-sized screen and has a dark mode", async () => {
    // The overview again, now with a finished job in its figures.
    await nav("Overview");
    await expect
      .poll(() => page.getByTestId("account-card").first().textContent())
      .toMatch(/Images 5 h \/ 24 h \/ 48 h\s*2 \/ 2 \/ 2/);
    await shot("overview");
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      colorScheme: "dark",
      storageState: await context.storageState(),
    });
    const small = await phone.newPage();
    await small.goto(`${base}/admin/`);
    await small.getByTestId("account-card").first().waitFor();
    const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    const background = await small.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const [r = 255, g = 255, b = 255] = (background.match(/\d+/g) ?? []).map(Number);
    expect(r + g + b).toBeLessThan(200);
    await shot("overview-phone-dark", small);
    await phone.close();
  });

  it("signs out, after which the pages ask to sign in again", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/admin\/login\/$/);
    await page.goto(`${base}/admin/keys/`);
    await page.waitForURL(/\/admin\/login\/$/);
    const me = await page.evaluate(async () => (await fetch("/trpc/auth.me")).status);
    expect(me).toBe(401);
    // Expected failures (the wrong password, 401s after signing out) are logged as failed requests;
    // nothing may have been blocked by the page's Content-Security-Policy.
    expect(consoleErrors.filter((text) => /Content Security Policy|Refused to/i.test(text))).toEqual([]);
  });
});
