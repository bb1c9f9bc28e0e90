import { readdir, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CodexHomeFixture, FakeCodexBackend } from "@codex-img/core/testing";
import { type ServerWithLogin, startServerWithLogin } from "@codex-img/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKeys } from "./support/hardening.js";

const ADMIN_PASSWORD = "correct-horse-battery-staple-41";

/**
 * A login that dies (401, then a refresh the token endpoint refuses for good) seen by every route family
 * of a real server process: `login_required`, 503, not retryable, no Retry-After, no server path and no
 * secret in any reply; the dashboard names the Codex home to log in again.
 */
describe("a dead Codex login, through the server process", () => {
  let dir: string;
  let started: ServerWithLogin | undefined;
  let upstream: FakeCodexBackend;
  let login: CodexHomeFixture;
  let url = "";
  let key = "";
  const bodies: string[] = [];

  beforeAll(async () => {
    started = await startServerWithLogin({
      prefix: "codex-img-dead-login-",
      // Only tokens the fake issued are accepted: the home's token gets 401 and the refresh is refused.
      upstream: { auth: "issued" },
      beforeStart: (fake) => fake.tokens.script({ fail: "refresh_token_invalidated" }),
      login: { plan: "plus" },
      env: { ADMIN_PASSWORD },
    });
    ({ dir, upstream, login } = started);
    ({ url, firstKey: key } = started.server);
  }, 40_000);

  afterAll(async () => {
    await started?.server.stop();
    await started?.close();
  });

  const send = async (
    path: string,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<Response> => {
    const reply = await fetch(`${url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
    bodies.push(await reply.clone().text());
    return reply;
  };

  it("REST: 503 login_required, not retryable, no Retry-After", async () => {
    const reply = await send("/v1/images/generate", { prompt: "a fox" });
    expect(reply.status).toBe(503);
    expect(reply.headers.get("retry-after")).toBeNull();
    const body = (await reply.json()) as { error: { code: string; retry_after_ms?: number }; detail: string };
    expect(body.error.code).toBe("login_required");
    expect(body.error.retry_after_ms).toBeUndefined();
    expect(body.detail).toContain('"main"');
    expect(upstream.tokens.requests.map((r) => r.status)).toEqual([401]);
    expect(upstream.tokens.reuses).toEqual([]);
  });

  it("OpenAI-shaped: 503 login_required with x-should-retry false and no retry-after", async () => {
    const reply = await send("/v1/images/generations", { prompt: "a fox", model: "gpt-image-2" });
    expect(reply.status).toBe(503);
    expect(reply.headers.get("retry-after")).toBeNull();
    expect(reply.headers.get("retry-after-ms")).toBeNull();
    expect(reply.headers.get("x-should-retry")).toBe("false");
    const body = (await reply.json()) as { error: { code: string } };
    expect(body.error.code).toBe("login_required");
  });

  it("tRPC: the job a generate-only key creates fails login_required, and the key may read it", async () => {
    const [generateOnly] = await createKeys(join(dir, "data"), [{ name: "gen", scopes: ["generate"] }]);
    const created = await fetch(`${url}/trpc/images.generate`, {
      method: "POST",
      headers: { authorization: `Bearer ${generateOnly}`, "content-type": "application/json" },
      body: JSON.stringify({ prompt: "a fox" }),
    });
    expect(created.status).toBe(200);
    const { result } = (await created.json()) as { result: { data: { job: { id: string } } } };
    const id = result.data.job.id;
    let job: { state?: string; status?: string; error?: { code: string } | null } = {};
    for (let i = 0; i < 80; i++) {
      const reply = await fetch(`${url}/trpc/jobs.get?input=${encodeURIComponent(JSON.stringify({ id }))}`, {
        headers: { authorization: `Bearer ${generateOnly}` },
      });
      bodies.push(await reply.clone().text());
      expect(reply.status).toBe(200);
      job = ((await reply.json()) as { result: { data: { job: typeof job } } }).result.data.job;
      if ((job.state ?? job.status) === "failed") break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(job.state ?? job.status).toBe("failed");
    expect(job.error?.code).toBe("login_required");
    const list = await fetch(`${url}/trpc/jobs.list?input=${encodeURIComponent(JSON.stringify({}))}`, {
      headers: { authorization: `Bearer ${generateOnly}` },
    });
    expect(list.status).toBe(200);
    const items = ((await list.json()) as { result: { data: { items: Array<{ id: string }> } } }).result.data
      .items;
    expect(items.map((item) => item.id)).toEqual([id]);
  });

  it("the dashboard names the Codex home to log in again", async () => {
    const session = await fetch(`${url}/trpc/auth.login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ password: ADMIN_PASSWORD }),
    });
    expect(session.status).toBe(200);
    const cookie = (session.headers.getSetCookie?.() ?? []).map((line) => line.split(";")[0]).join("; ");
    const reply = await fetch(`${url}/trpc/system.overview`, { headers: { cookie } });
    expect(reply.status).toBe(200);
    const overview = ((await reply.json()) as { result: { data: { needsLogin: unknown } } }).result.data;
    expect(overview.needsLogin).toEqual([{ label: "main", home: login.home }]);
  });

  it("no reply a caller saw carries a server path or a secret", () => {
    expect(bodies.length).toBeGreaterThanOrEqual(3);
    for (const body of bodies) {
      for (const secret of [
        dir,
        login.home,
        tmpdir(),
        ADMIN_PASSWORD,
        login.accessToken,
        login.refreshToken,
      ]) {
        expect(body).not.toContain(secret);
      }
      expect(body).not.toMatch(/verbose: true|auth\.json\.lock|\/tmp\//);
    }
  });

  it("keeps the data folder 0700 and the database and images 0600", async () => {
    const data = join(dir, "data");
    expect((await stat(data)).mode & 0o777).toBe(0o700);
    const files = await readdir(data);
    const databases = files.filter(
      (name) => name.endsWith(".db") || name.endsWith("-wal") || name.endsWith("-shm"),
    );
    expect(databases.length).toBeGreaterThan(0);
    for (const name of databases)
      expect([name, (await stat(join(data, name))).mode & 0o777]).toEqual([name, 0o600]);
  });
});
