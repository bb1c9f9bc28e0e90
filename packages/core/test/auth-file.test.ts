import { readFile } from "node:fs/promises";
import {
  applyRefreshedTokens,
  type CodexImgError,
  classifyRefreshFailure,
  parseAuthFile,
  parseLastRefresh,
  readJwtClaims,
  summarizeLogin,
  tokenFreshness,
} from "@codex-img/core";
import { createCodexHome, fakeJwt, mintFakeTokens } from "@codex-img/core/testing";
import { afterEach, describe, expect, it } from "vitest";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function authText(options: Parameters<typeof createCodexHome>[0]) {
  const fixture = await createCodexHome(options);
  cleanups.push(fixture.cleanup);
  const text = await readFile(fixture.authPath, "utf8").catch(() => undefined);
  return { fixture, text };
}

function thrown(fn: () => unknown): CodexImgError {
  try {
    fn();
  } catch (error) {
    return error as CodexImgError;
  }
  throw new Error("expected a throw");
}

const DAY = 24 * 3_600_000;

describe("parseAuthFile", () => {
  it("reads a current ChatGPT login", async () => {
    const now = Date.UTC(2026, 7, 1, 12);
    const { fixture, text } = await authText({ email: "a@example.com", plan: "pro", now });
    const login = parseAuthFile(text);
    expect(login).toMatchObject({
      accountId: fixture.accountId,
      email: "a@example.com",
      plan: "pro",
      accessTokenExpiresAt: now + 10 * DAY,
      lastRefreshAt: now,
      tokens: {
        accessToken: fixture.accessToken,
        refreshToken: fixture.refreshToken,
        idToken: fixture.idToken,
      },
    });
  });

  it("reads an old file without auth_mode and account_id (id token claim, then access token claim)", async () => {
    const { fixture, text } = await authText({ variant: "legacy" });
    expect(parseAuthFile(text).accountId).toBe(fixture.accountId);

    const raw = JSON.parse(text ?? "");
    raw.tokens.id_token = fakeJwt({ email: "x@example.com" });
    expect(parseAuthFile(JSON.stringify(raw))).toMatchObject({
      accountId: fixture.accountId,
      email: "x@example.com",
    });

    delete raw.tokens.access_token;
    expect(thrown(() => parseAuthFile(JSON.stringify(raw)))).toMatchObject({ code: "login_required" });
  });

  it("treats an old file with an API key as an API-key login", async () => {
    const { text } = await authText({ variant: "legacy" });
    const raw = { ...JSON.parse(text ?? ""), OPENAI_API_KEY: "sk-test-platform-key-0123456789abcdef" };
    const error = thrown(() => parseAuthFile(JSON.stringify(raw)));
    expect(error.code).toBe("login_required");
    expect(error.message).toContain("run `codex login` and sign in with ChatGPT");
    expect(error.message).not.toContain("sk-test");
  });

  it("refuses an API-key login with the fix in the message", async () => {
    const { text } = await authText({ variant: "apikey" });
    const error = thrown(() => parseAuthFile(text, { path: "/h/auth.json" }));
    expect(error).toMatchObject({ code: "login_required" });
    expect(error.message).toMatch(/API-key login.*run `codex login` and sign in with ChatGPT/);
    expect(error.message).not.toContain("sk-test");
  });

  it("names the fix and keyring mode when the file is missing", async () => {
    const { text } = await authText({ variant: "missing" });
    expect(text).toBeUndefined();
    const error = thrown(() => parseAuthFile(text, { path: "/h/auth.json" }));
    expect(error.code).toBe("login_required");
    expect(error.message).toContain("/h/auth.json");
    expect(error.message).toContain("run `codex login` and sign in with ChatGPT");
    expect(error.message).toContain('cli_auth_credentials_store = "file"');
  });

  it("reports malformed JSON without quoting the file", async () => {
    const { accessToken } = mintFakeTokens();
    const error = thrown(() => parseAuthFile(`{"tokens": {"access_token": ${accessToken}`));
    expect(error.code).toBe("login_required");
    expect(error.message).toMatch(/not valid JSON/);
    expect(error.message).not.toContain(accessToken.slice(0, 20));
    expect(error.cause).toBeUndefined();
  });

  it("refuses an unknown auth_mode and a file without tokens", () => {
    expect(thrown(() => parseAuthFile('{"auth_mode":"chatgptAuthTokens","tokens":{}}')).code).toBe(
      "login_required",
    );
    expect(thrown(() => parseAuthFile('{"auth_mode":"chatgpt","tokens":null}')).code).toBe("login_required");
    expect(thrown(() => parseAuthFile("[]")).code).toBe("login_required");
  });
});

describe("JWT claims", () => {
  it("reads email from the top level, else from the profile claim, and keeps unknown plans", () => {
    const auth = { chatgpt_plan_type: "galaxy-brain", chatgpt_account_id: "acct-1" };
    expect(
      readJwtClaims(fakeJwt({ email: "top@example.com", "https://api.openai.com/auth": auth, exp: 1000 })),
    ).toEqual({ email: "top@example.com", plan: "galaxy-brain", accountId: "acct-1", expiresAt: 1_000_000 });
    expect(readJwtClaims(fakeJwt({ "https://api.openai.com/profile": { email: "p@example.com" } }))).toEqual({
      email: "p@example.com",
    });
  });

  it("returns nothing for tokens that are not JWTs", () => {
    expect(readJwtClaims("opaque")).toEqual({});
    expect(readJwtClaims("a.%%%.c")).toEqual({});
    expect(readJwtClaims(undefined)).toEqual({});
  });

  it("decodes non-ASCII payloads", () => {
    expect(readJwtClaims(fakeJwt({ email: "zoë@example.com" })).email).toBe("zoë@example.com");
  });
});

describe("parseLastRefresh", () => {
  const base = Date.UTC(2026, 7, 1, 12, 34, 56);
  it.each([
    ["2026-08-01T12:34:56Z", base],
    ["2026-08-01T12:34:56.789Z", base + 789],
    ["2026-08-01T12:34:56.789123456Z", base + 789],
    ["2026-08-01T12:34:56+00:00", base],
    ["2026-08-01T12:34:56.5+00:00", base + 500],
    ["2026-08-01T14:34:56+02:00", base],
    ["2026-08-01T12:34:56", base],
  ])("parses %s", (text, expected) => {
    expect(parseLastRefresh(text)).toBe(expected);
  });

  it("ignores what it cannot read", () => {
    expect(parseLastRefresh("yesterday")).toBeUndefined();
    expect(parseLastRefresh(42)).toBeUndefined();
    expect(parseLastRefresh(undefined)).toBeUndefined();
  });
});

describe("tokenFreshness", () => {
  const now = Date.UTC(2026, 7, 1);
  it("asks for a refresh within 5 minutes and colours like the predecessor's dashboard", () => {
    expect(tokenFreshness({ accessTokenExpiresAt: now + 10 * DAY }, now)).toMatchObject({
      needsRefresh: false,
      state: "fresh",
      level: "green",
      expiresInMs: 10 * DAY,
    });
    expect(tokenFreshness({ accessTokenExpiresAt: now + 2 * DAY }, now).level).toBe("amber");
    expect(tokenFreshness({ accessTokenExpiresAt: now + 12 * 3_600_000 }, now).level).toBe("red");
    expect(tokenFreshness({ accessTokenExpiresAt: now + 5 * 60_000 + 1 }, now).needsRefresh).toBe(false);
    expect(tokenFreshness({ accessTokenExpiresAt: now + 5 * 60_000 }, now)).toMatchObject({
      needsRefresh: true,
      state: "expiring",
      level: "red",
    });
    expect(tokenFreshness({ accessTokenExpiresAt: now - 1 }, now)).toMatchObject({
      needsRefresh: true,
      state: "expired",
    });
  });

  it("falls back on days since last_refresh when the token has no exp", () => {
    expect(tokenFreshness({ lastRefreshAt: now - 2 * DAY }, now)).toMatchObject({
      basis: "last_refresh",
      daysSinceRefresh: 2,
      level: "green",
      needsRefresh: false,
    });
    expect(tokenFreshness({ lastRefreshAt: now - 8 * DAY }, now).level).toBe("amber");
    expect(tokenFreshness({ lastRefreshAt: now - 9.5 * DAY }, now).level).toBe("red");
    expect(tokenFreshness({}, now)).toMatchObject({ basis: "none", state: "unknown", level: "red" });
  });
});

describe("summarizeLogin", () => {
  it("shows who and how fresh, never a token", async () => {
    const now = Date.UTC(2026, 7, 1);
    const { fixture, text } = await authText({ email: "s@example.com", plan: "team", now });
    const summary = summarizeLogin(parseAuthFile(text), now);
    expect(summary).toMatchObject({
      email: "s@example.com",
      plan: "team",
      accountId: fixture.accountId,
      accountIdShort: fixture.accountId.slice(0, 8),
      lastRefreshAt: now,
      freshness: { level: "green", state: "fresh" },
    });
    const json = JSON.stringify(summary);
    for (const secret of [fixture.accessToken, fixture.refreshToken, fixture.idToken]) {
      expect(json).not.toContain(secret);
    }
  });
});

describe("applyRefreshedTokens", () => {
  it("replaces what came back, keeps everything else, stamps last_refresh in Z form", () => {
    const raw = {
      auth_mode: "chatgpt",
      custom: { keep: true },
      tokens: {
        id_token: "old-id",
        access_token: "old-at",
        refresh_token: "old-rt",
        account_id: "acct-1",
        x: 1,
      },
      last_refresh: "2020-01-01T00:00:00+00:00",
    };
    const next = applyRefreshedTokens(
      raw,
      { accessToken: "new-at", refreshToken: "new-rt" },
      Date.UTC(2026, 0, 2),
    );
    expect(next).toEqual({
      auth_mode: "chatgpt",
      custom: { keep: true },
      tokens: {
        id_token: "old-id",
        access_token: "new-at",
        refresh_token: "new-rt",
        account_id: "acct-1",
        x: 1,
      },
      last_refresh: "2026-01-02T00:00:00.000Z",
    });
    expect(raw.tokens.access_token).toBe("old-at");
  });
});

describe("classifyRefreshFailure", () => {
  it.each([
    [401, { error: { code: "refresh_token_reused", message: "used" } }, "refresh_token_reused"],
    [400, { error: "invalid_grant", error_description: "bad" }, "invalid_grant"],
    [401, { code: "refresh_token_expired" }, "refresh_token_expired"],
    [
      400,
      { error: "invalid_request", error_description: "refresh_token_invalidated" },
      "refresh_token_invalidated",
    ],
    [401, "refresh_token_reused", "refresh_token_reused"],
  ])("HTTP %i %j is a permanent login_required", (status, body, code) => {
    const error = classifyRefreshFailure(status, body);
    expect(error).toMatchObject({ code: "login_required", details: { upstreamCode: code, permanent: true } });
    expect(error.message).toContain("run `codex login` again");
  });

  it("keeps 5xx retryable and other 4xx not permanent", () => {
    expect(classifyRefreshFailure(503, "")).toMatchObject({ code: "upstream_failed", retryable: true });
    expect(classifyRefreshFailure(429, {})).toMatchObject({ code: "rate_limited" });
    expect(classifyRefreshFailure(400, { error: "invalid_request" })).toMatchObject({
      code: "upstream_failed",
      retryable: false,
    });
  });
});
