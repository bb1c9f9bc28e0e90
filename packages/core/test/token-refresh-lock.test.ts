import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { acquireFileLock, type CodexImgError, withFileLock } from "@codex-img/core";
import { createCodexHome, createFakeTokenEndpoint, startFakeUpstreamServer } from "@codex-img/core/testing";
import ts from "typescript";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "lock-test-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", ""]);
  return child.pid ?? 999_999;
}

describe("acquireFileLock", () => {
  it("holds the lock with pid and time, and makes a second taker wait and then give up clearly", async () => {
    const path = join(await tempDir(), "auth.json.lock");
    const lock = await acquireFileLock(path);
    expect(JSON.parse(await readFile(path, "utf8"))).toMatchObject({
      pid: process.pid,
      hostname: hostname(),
    });

    const started = Date.now();
    const error = (await acquireFileLock(path, { waitTimeoutMs: 150, pollIntervalMs: 10 }).catch(
      (e: unknown) => e,
    )) as CodexImgError;
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(error.message).toContain(
      `Timed out after 150 ms waiting for the lock ${path} held by pid ${process.pid}`,
    );

    await lock.release();
    expect(existsSync(path)).toBe(false);
    await (await acquireFileLock(path)).release();
  });

  it("hands the lock to a waiter as soon as it is released", async () => {
    const path = join(await tempDir(), "auth.json.lock");
    const order: string[] = [];
    const first = await acquireFileLock(path);
    const second = withFileLock(
      path,
      async () => {
        order.push("second");
      },
      { pollIntervalMs: 5 },
    );
    await new Promise((resolve) => setTimeout(resolve, 30));
    order.push("first-done");
    await first.release();
    await second;
    expect(order).toEqual(["first-done", "second"]);
    expect(existsSync(path)).toBe(false);
  });

  it("takes over at once from a holder that is dead", async () => {
    const path = join(await tempDir(), "auth.json.lock");
    await writeFile(path, JSON.stringify({ pid: deadPid(), hostname: hostname(), acquiredAt: Date.now() }));
    const lock = await acquireFileLock(path, { waitTimeoutMs: 100 });
    expect(JSON.parse(await readFile(path, "utf8")).pid).toBe(process.pid);
    await lock.release();
  });

  it("never takes over from a live holder until the generous stale bound has passed", async () => {
    const path = join(await tempDir(), "auth.json.lock");
    const live = { pid: process.pid, hostname: hostname(), acquiredAt: Date.now() };
    await writeFile(path, JSON.stringify(live));
    await expect(acquireFileLock(path, { waitTimeoutMs: 50, pollIntervalMs: 5 })).rejects.toMatchObject({
      message: expect.stringContaining("Timed out"),
    });

    await writeFile(path, JSON.stringify({ ...live, acquiredAt: Date.now() - 11 * 60_000 }));
    const lock = await acquireFileLock(path, { waitTimeoutMs: 50 });
    await lock.release();
  });

  it("releases on a throw and does not remove a lock that is no longer its own", async () => {
    const path = join(await tempDir(), "auth.json.lock");
    await expect(
      withFileLock(path, async () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(existsSync(path)).toBe(false);

    const lock = await acquireFileLock(path);
    await writeFile(path, JSON.stringify({ pid: process.pid, hostname: hostname(), acquiredAt: Date.now() }));
    await lock.release();
    expect(existsSync(path)).toBe(true);
  });
});

describe("two processes refreshing one Codex home", () => {
  const coreSrc = fileURLToPath(new URL("../src/", import.meta.url));
  const childScript = fileURLToPath(new URL("./support/refresh-child.mjs", import.meta.url));
  let buildDir = "";

  // The children are plain Node processes, which cannot load TypeScript on Node 20: compile the
  // provider and what it imports (not the whole package, so unrelated work in progress cannot break it).
  beforeAll(async () => {
    buildDir = await mkdtemp(join(tmpdir(), "codex-img-core-build-"));
    const program = ts.createProgram([join(coreSrc, "node/codex-home-credentials.ts")], {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      rootDir: coreSrc,
      outDir: buildDir,
      skipLibCheck: true,
      types: ["node"],
      noEmitOnError: false,
    });
    const emitted = program.emit();
    expect(emitted.emitSkipped).toBe(false);
    await writeFile(join(buildDir, "package.json"), '{ "type": "module" }\n');
  }, 60_000);
  afterAll(async () => {
    if (buildDir) await rm(buildDir, { recursive: true, force: true });
  });

  function runChild(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [childScript, ...args], { stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk) => {
        stdout += chunk;
      });
      child.stderr.on("data", (chunk) => {
        stderr += chunk;
      });
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
  }

  async function waitFor(paths: string[]): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (!paths.every((path) => existsSync(path))) {
      if (Date.now() > deadline) throw new Error("children did not get ready");
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  it.each([1, 2, 3])("performs exactly one refresh and no reuse (round %i)", async () => {
    const fixture = await createCodexHome({ accessTokenExpiresInSeconds: 60 });
    const endpoint = createFakeTokenEndpoint({ acceptUnknownTokens: false });
    endpoint.trust(fixture.refreshToken, { accountId: fixture.accountId });
    // Slow enough that the second child arrives while the first is mid-refresh.
    endpoint.script({ delayMs: 250 });
    const server = await startFakeUpstreamServer({ handlers: [endpoint.handler] });
    cleanups.push(fixture.cleanup, server.close);

    const gate = await tempDir();
    const start = join(gate, "start");
    const ready = [join(gate, "ready-a"), join(gate, "ready-b")];
    const moduleUrl = pathToFileURL(join(buildDir, "node/codex-home-credentials.js")).href;
    const children = ready.map((readyFile) =>
      runChild([moduleUrl, fixture.home, `${server.origin}/oauth/token`, readyFile, start]),
    );
    await waitFor(ready);
    await writeFile(start, "go");
    const results = await Promise.all(children);

    for (const result of results) expect(result.code, result.stderr).toBe(0);
    expect(endpoint.refreshes).toBe(1);
    expect(endpoint.requests).toHaveLength(1);
    expect(endpoint.reuses).toEqual([]);

    const [a, b] = results.map(
      (result) => JSON.parse(result.stdout) as { accessToken: string; accountId: string },
    );
    const latest = endpoint.latest(fixture.accountId);
    expect(a?.accessToken).toBe(latest?.accessToken);
    expect(b?.accessToken).toBe(latest?.accessToken);
    expect(a?.accountId).toBe(fixture.accountId);
    const onDisk = JSON.parse(await readFile(fixture.authPath, "utf8"));
    expect(onDisk.tokens.refresh_token).toBe(latest?.refreshToken);
    expect(existsSync(join(fixture.home, "codex-img-auth.lock"))).toBe(false);

    // Proof that they raced: one refreshed, the other found the tokens on disk under the lock.
    const stderr = results.map((result) => result.stderr).join("\n");
    expect(stderr).toContain("codex tokens rotated");
    expect(stderr).toContain("adopted the tokens on disk");
  });
});
