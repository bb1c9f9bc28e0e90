import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { acquireFileLock, createExactFetch, requestTokenRefresh } from "@codex-img/core";
import { type CodexHomeFixture, createCodexHome, type FakeCodexBackend } from "@codex-img/core/testing";
import { startUpstreamWithLogins } from "@codex-img/server/testing";
import { afterEach, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../../..");
const bun = join(root, "node_modules/.bin/bun");
const script = join(root, "deploy/keep-fresh.ts");

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** deploy/keep-fresh.ts as the timer runs it: a real Bun process with only the environment given. */
function runKeepFresh(
  cwd: string,
  env: Record<string, string>,
  onStderr?: (text: string) => void,
): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(bun, ["--conditions=source", script], {
      cwd,
      env: { PATH: process.env.PATH ?? "", HOME: cwd, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      onStderr?.(stderr);
    });
    child.on("error", fail);
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}

async function setup(): Promise<{ dir: string; backend: FakeCodexBackend }> {
  const base = await startUpstreamWithLogins({
    prefix: "codex-img-keep-fresh-",
    // Only refresh tokens the fake issued or was told about are accepted: an unknown one is "invalidated".
    upstream: { tokenEndpoint: { acceptUnknownTokens: false } },
  });
  cleanups.push(base.close);
  return { dir: base.dir, backend: base.upstream };
}

async function home(dir: string, backend: FakeCodexBackend, trusted = true): Promise<CodexHomeFixture> {
  const fixture = await createCodexHome({ parent: dir, email: `${Math.random()}@example.com` });
  if (trusted) backend.tokens.trust(fixture.refreshToken, { accountId: fixture.accountId });
  return fixture;
}

async function authOf(fixture: CodexHomeFixture): Promise<{ refresh: string; access: string; mode: number }> {
  const content = JSON.parse(await readFile(fixture.authPath, "utf8"));
  return {
    refresh: content.tokens.refresh_token,
    access: content.tokens.access_token,
    mode: (await stat(fixture.authPath)).mode & 0o777,
  };
}

function secretsOf(backend: FakeCodexBackend, fixtures: CodexHomeFixture[]): string[] {
  return fixtures.flatMap((f) => {
    const latest = backend.tokens.latest(f.accountId);
    return [f.refreshToken, f.accessToken, f.idToken, latest?.refreshToken, latest?.accessToken].filter(
      (value): value is string => value !== undefined,
    );
  });
}

describe("deploy/keep-fresh.ts", () => {
  it("rotates every home once, writes 0600, reports a dead home and exits non-zero", async () => {
    const { dir, backend } = await setup();
    const a = await home(dir, backend);
    const b = await home(dir, backend);
    const dead = await home(dir, backend, false);
    const missing = join(dir, "never-logged-in");
    const env = {
      CODEX_HOMES: `alpha=${a.home}:beta=${b.home}:dead=${dead.home}:missing=${missing}`,
      CODEX_REFRESH_TOKEN_URL_OVERRIDE: backend.tokenUrl,
    };

    const run = await runKeepFresh(dir, env);

    expect(run.code, run.stderr).toBe(1);
    const lines = run.stdout.trim().split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^ok\s+alpha .*refreshed; access token valid until \d{4}-/);
    expect(lines[1]).toMatch(/^ok\s+beta /);
    expect(lines[2]).toMatch(/^LOGIN\s+dead .*codex login/);
    expect(lines[3]).toMatch(/^LOGIN\s+missing .*codex login/);

    for (const fixture of [a, b]) {
      const auth = await authOf(fixture);
      const latest = backend.tokens.latest(fixture.accountId);
      expect(auth.refresh).not.toBe(fixture.refreshToken);
      expect(auth.refresh).toBe(latest?.refreshToken);
      expect(auth.access).toBe(latest?.accessToken);
      expect(auth.mode).toBe(0o600);
      expect(existsSync(join(fixture.home, "codex-img-auth.lock"))).toBe(false);
    }
    // The dead login is left as it was, for `codex login` to replace.
    expect((await authOf(dead)).refresh).toBe(dead.refreshToken);

    // One request per home that has a refresh token, each with that home's token; nothing spent twice.
    expect(backend.tokens.refreshes).toBe(2);
    expect(backend.tokens.requests.map((r) => r.refreshToken)).toEqual([
      a.refreshToken,
      b.refreshToken,
      dead.refreshToken,
    ]);
    expect(backend.tokens.reuses).toEqual([]);

    // No token in anything it printed.
    for (const secret of secretsOf(backend, [a, b, dead])) {
      expect(run.stdout).not.toContain(secret);
      expect(run.stderr).not.toContain(secret);
    }
  });

  it("spends only the newest token on the next run and exits 0 when every home is fresh", async () => {
    const { dir, backend } = await setup();
    const a = await home(dir, backend);
    const env = {
      CODEX_IMG_CODEX_HOMES: `alpha=${a.home}`,
      CODEX_IMG_REFRESH_TOKEN_URL: backend.tokenUrl,
    };

    const first = await runKeepFresh(dir, env);
    const afterFirst = await authOf(a);
    const second = await runKeepFresh(dir, env);

    expect(first.code, first.stderr).toBe(0);
    expect(second.code, second.stderr).toBe(0);
    expect(backend.tokens.requests.map((r) => r.refreshToken)).toEqual([a.refreshToken, afterFirst.refresh]);
    expect(backend.tokens.reuses).toEqual([]);
    expect((await authOf(a)).refresh).toBe(backend.tokens.latest(a.accountId)?.refreshToken);
  });

  it("waits for a refresh another process holds the lock for, then adopts its tokens", async () => {
    const { dir, backend } = await setup();
    const a = await home(dir, backend);
    // Another process (the server) is mid-refresh: it holds codex-img-auth.lock.
    const lock = await acquireFileLock(join(a.home, "codex-img-auth.lock"));
    let sawStart: () => void = () => {};
    const started = new Promise<void>((ok) => {
      sawStart = ok;
    });

    const running = runKeepFresh(
      dir,
      { CODEX_HOMES: `alpha=${a.home}`, CODEX_REFRESH_TOKEN_URL_OVERRIDE: backend.tokenUrl },
      (text) => {
        if (text.includes("refreshing alpha")) sawStart();
      },
    );
    await started;
    await new Promise((ok) => setTimeout(ok, 400));

    // The "server" spends the refresh token and writes the new tokens, then lets go of the lock.
    const rotated = await requestTokenRefresh({
      refreshToken: a.refreshToken,
      tokenUrl: backend.tokenUrl,
      fetch: createExactFetch(),
    });
    const content = JSON.parse(await readFile(a.authPath, "utf8"));
    content.tokens.access_token = rotated.accessToken;
    content.tokens.refresh_token = rotated.refreshToken;
    await writeFile(a.authPath, JSON.stringify(content), { mode: 0o600 });
    await lock.release();

    const run = await running;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^ok\s+alpha .*adopted/);
    // Only the "server" called the endpoint: the script did not spend the old token a second time.
    expect(backend.tokens.requests).toHaveLength(1);
    expect(backend.tokens.reuses).toEqual([]);
    expect((await authOf(a)).refresh).toBe(rotated.refreshToken);
  });

  it("reports a configuration problem with exit code 2", async () => {
    const { dir } = await setup();
    const run = await runKeepFresh(dir, { CODEX_IMG_PORT: "not-a-port" });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("CODEX_IMG_PORT");
  });
});
