import { rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import {
  accountsFromCodexHomes,
  authFileFingerprint,
  CodexImgError,
  createAccountPool,
  parseCodexHomes,
} from "@codex-img/core";
import { type CodexHomeFixture, createCodexHome, ManualClock, mintFakeTokens } from "@codex-img/core/testing";
import { afterEach, describe, expect, it } from "vitest";

describe("parseCodexHomes", () => {
  it("uses the default home when nothing is listed", () => {
    expect(parseCodexHomes(undefined, "~/.codex")).toEqual([
      { label: ".codex", home: join(homedir(), ".codex") },
    ]);
    expect(parseCodexHomes(" : :", "/srv/codex")).toEqual([{ label: "codex", home: "/srv/codex" }]);
  });

  it("splits on colons, ignores empty entries, expands ~ and labels by folder name", () => {
    expect(parseCodexHomes("/a/work::~/personal: /b/extra/ ", "/unused")).toEqual([
      { label: "work", home: "/a/work" },
      { label: "personal", home: join(homedir(), "personal") },
      { label: "extra", home: "/b/extra" },
    ]);
  });

  it("disambiguates repeated folder names, accepts label=path and drops repeated folders", () => {
    expect(parseCodexHomes("/x/.codex:/y/.codex:main=/z/home:/x/.codex:/w/.codex-2", "/d")).toEqual([
      { label: ".codex", home: "/x/.codex" },
      { label: ".codex-3", home: "/y/.codex" },
      { label: "main", home: "/z/home" },
      { label: ".codex-2", home: "/w/.codex-2" },
    ]);
  });

  it("rejects the same explicit label twice", () => {
    expect(() => parseCodexHomes("a=/x:a=/y", "/d")).toThrow(CodexImgError);
  });
});

describe("accountsFromCodexHomes", () => {
  const homes: CodexHomeFixture[] = [];
  afterEach(async () => {
    await Promise.all(homes.splice(0).map((h) => h.cleanup()));
  });

  it("builds accounts with credentials, the home and the backend's default concurrency", async () => {
    const home = await createCodexHome();
    homes.push(home);
    const [http] = accountsFromCodexHomes([{ label: "work", home: home.home }], { backend: "codex-http" });
    const [cli] = accountsFromCodexHomes([{ label: "work", home: home.home }], { backend: "codex-cli" });
    const [custom] = accountsFromCodexHomes([{ label: "work", home: home.home }], {
      backend: "codex-http",
      maxConcurrency: 2,
    });
    expect(http).toMatchObject({ label: "work", codexHome: home.home, maxConcurrency: 4 });
    expect(cli?.maxConcurrency).toBe(1);
    expect(custom?.maxConcurrency).toBe(2);
    await expect(http?.credentials?.get()).resolves.toEqual({
      accessToken: home.accessToken,
      accountId: home.accountId,
    });
  });

  it("fingerprints auth.json by content; a missing file gives undefined", async () => {
    const home = await createCodexHome();
    homes.push(home);
    const first = await authFileFingerprint(home.home);
    expect(first).toMatch(/^[\d.]+:\d+:[0-9a-f]{64}$/);
    expect(await authFileFingerprint(home.home)).toBe(first);
    await writeFile(home.authPath, "{}\n");
    expect(await authFileFingerprint(home.home)).not.toBe(first);
    await rm(home.authPath);
    expect(await authFileFingerprint(home.home)).toBeUndefined();
  });

  it("a dead account is revived by a new login written to its auth.json", async () => {
    const clock = new ManualClock();
    const home = await createCodexHome();
    homes.push(home);
    const pool = createAccountPool({
      clock,
      accounts: accountsFromCodexHomes(parseCodexHomes(home.home, "/unused"), {
        backend: "codex-cli",
        clock,
      }),
    });
    const lease = await pool.acquire();
    lease.release({ ok: false, error: new CodexImgError("login_required", "refresh token was revoked") });
    expect(pool.snapshot()[0]?.state).toBe("dead");
    await clock.advance(5_000);
    await expect(pool.acquire()).rejects.toMatchObject({ code: "login_required" });

    // What `codex login` does: a whole new auth.json in the same folder.
    const tokens = mintFakeTokens({ accountId: home.accountId });
    await writeFile(
      home.authPath,
      `${JSON.stringify({
        auth_mode: "chatgpt",
        OPENAI_API_KEY: null,
        tokens: {
          id_token: tokens.idToken,
          access_token: tokens.accessToken,
          refresh_token: tokens.refreshToken,
          account_id: tokens.accountId,
        },
        last_refresh: new Date().toISOString(),
      })}\n`,
    );
    await clock.advance(5_000);
    const revived = await pool.acquire();
    expect(revived.account).toMatchObject({
      label: parseCodexHomes(home.home, "/unused")[0]?.label,
      codexHome: home.home,
    });
    await expect(revived.account.credentials?.get()).resolves.toMatchObject({
      accessToken: tokens.accessToken,
    });
  });
});
