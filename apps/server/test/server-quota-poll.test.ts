import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import type { CodexHomeFixture, FakeCodexBackend } from "@codex-img/core/testing";
import {
  fakeUpstreamArgs,
  type ServerProcess,
  startServerProcess,
  startUpstreamWithLogins,
  type UpstreamWithLogins,
} from "@codex-img/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../../..");

/**
 * Live quota: a restarted server with two accounts and no traffic reads each account's usage endpoint at
 * start, shows it, and dispatches to the account with more left; `doctor` shows the same.
 */
describe("usage polling", () => {
  let base: UpstreamWithLogins | undefined;
  let dir: string;
  let upstream: FakeCodexBackend;
  let busy: CodexHomeFixture;
  let idle: CodexHomeFixture;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    base = await startUpstreamWithLogins({
      prefix: "codex-img-quota-",
      logins: [
        { email: "busy@example.com", plan: "plus" },
        { email: "idle@example.com", plan: "plus" },
      ],
    });
    ({ dir, upstream } = base);
    [busy, idle] = base.logins as [CodexHomeFixture, CodexHomeFixture];
    upstream.quotaByAccount = {
      [busy.accountId]: { primaryUsedPercent: 80, secondaryUsedPercent: 60 },
      [idle.accountId]: { primaryUsedPercent: 10, secondaryUsedPercent: 5 },
    };
  }, 40_000);

  afterAll(async () => {
    if (server?.child.exitCode === null) server.child.kill("SIGKILL");
    await base?.close();
  });

  it("polls every account at start and dispatches to the one with more quota left", async () => {
    server = await startServerProcess({
      args: ["--port", "0", "--data-dir", join(dir, "data"), ...fakeUpstreamArgs(upstream)],
      // The account with less left comes first: without the poll, dispatch would start with it.
      env: { HOME: dir, CODEX_HOMES: `busy=${busy.home}:idle=${idle.home}` },
      cwd: dir,
    });
    const polled = (): string[] =>
      upstream.requests
        .filter((r) => r.url.startsWith("/backend-api/wham/usage"))
        .map((r) => String(r.headers["chatgpt-account-id"]));
    for (let i = 0; i < 100 && polled().length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(polled().sort()).toEqual([busy.accountId, idle.accountId].sort());

    const reply = await fetch(`${server.url}/v1/images/generate`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.firstKey}`, "content-type": "application/json" },
      body: JSON.stringify({ prompt: "a lighthouse", size: "1024x1024" }),
    });
    expect(reply.status).toBe(200);
    const sent = upstream.requests.find((r) => r.url.endsWith("/images/generations"));
    expect(sent?.headers["chatgpt-account-id"]).toBe(idle.accountId);
  }, 40_000);

  it("doctor shows each account's quota, read now", async () => {
    const { stdout } = await promisify(execFile)(
      join(root, "node_modules/.bin/bun"),
      [
        "--conditions=source",
        join(root, "apps/server/src/main.ts"),
        "doctor",
        "--data-dir",
        join(dir, "data"),
        ...fakeUpstreamArgs(upstream),
      ],
      {
        env: { PATH: process.env.PATH ?? "", HOME: dir, CODEX_HOMES: `busy=${busy.home}:idle=${idle.home}` },
        timeout: 60_000,
      },
    );
    expect(stdout).toMatch(/\[ok\] busy[\s\S]*quota: primary 80% used, resets in [^;]+; secondary 60% used/);
    expect(stdout).toMatch(/\[ok\] idle[\s\S]*quota: primary 10% used, resets in [^;]+; secondary 5% used/);
    expect(stdout).not.toContain(busy.accessToken);
  }, 60_000);
});
