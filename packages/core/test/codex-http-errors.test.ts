import { readFile } from "node:fs/promises";
import {
  type CodexImgError,
  createCodexHomeCredentials,
  createCodexHttpBackend,
  isCodexImgError,
} from "@codex-img/core";
import {
  createCodexHome,
  type FakeCodexBackend,
  ManualClock,
  startFakeCodexBackend,
} from "@codex-img/core/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  accountOptions,
  exactFetch,
  recordingCredentials,
  rejectionOf,
  TEST_CLIENT,
} from "./support/codex-http-fixtures.js";

let fake: FakeCodexBackend;
let clock: ManualClock;
beforeEach(async () => {
  fake = await startFakeCodexBackend();
  clock = new ManualClock(Date.now());
});
afterEach(async () => {
  await fake.close();
});

const backendFor = (extra: Parameters<typeof createCodexHttpBackend>[0] = {}) =>
  createCodexHttpBackend({ baseUrl: fake.baseUrl, client: TEST_CLIENT, fetch: exactFetch, clock, ...extra });

async function failure(
  extra: Parameters<typeof createCodexHttpBackend>[0] = {},
  credentials = recordingCredentials(),
): Promise<CodexImgError> {
  const error = await rejectionOf(backendFor(extra).generate({ prompt: "x" }, accountOptions(credentials)));
  if (!isCodexImgError(error)) throw error;
  // No token ever appears in what an error carries.
  const text = `${error.message} ${JSON.stringify(error)}`;
  for (const token of credentials.tokens) expect(text).not.toContain(token.accessToken);
  return error;
}

describe("codex-http error classification", () => {
  it("429 usage_limit_reached with resets_at: quota_exhausted until the reset, account at fault", async () => {
    const resetsAt = Math.floor(clock.now() / 1000) + 3600;
    fake.script.images.push({ kind: "usage_limit", resetsAt, planType: "plus" });
    const error = await failure();
    expect(error.code).toBe("quota_exhausted");
    expect(error.retryable).toBe(true);
    expect(error.retryAfterMs).toBe(resetsAt * 1000 - clock.now());
    expect(error.details).toMatchObject({
      upstreamStatus: 429,
      upstreamCode: "usage_limit_reached",
      resetsAt: resetsAt * 1000,
      planType: "plus",
      account: "work",
      accountFault: true,
      quota: { primary: { usedPercent: 100 } },
    });
    expect(fake.requests).toHaveLength(1);
  });

  it("usage limit with only resets_in_seconds, on the responses route", async () => {
    fake.script.responses.push({
      kind: "custom",
      handle: (_request, res) => {
        res.writeHead(429, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            error: {
              type: "usage_limit_reached",
              message: "The usage limit has been reached",
              resets_in_seconds: 600,
            },
          }),
        );
      },
    });
    const error = await failure({ initialRoute: "responses" });
    expect(error.code).toBe("quota_exhausted");
    expect(error.retryAfterMs).toBe(600_000);
    expect(error.details.resetsAt).toBe(clock.now() + 600_000);
  });

  it("usage_not_included: plan_not_supported", async () => {
    fake.script.images.push({ kind: "usage_not_included", planType: "free" });
    const error = await failure();
    expect(error.code).toBe("plan_not_supported");
    expect(error.details).toMatchObject({
      upstreamCode: "usage_not_included",
      planType: "free",
      accountFault: true,
    });
  });

  it("other 429: rate_limited honouring Retry-After", async () => {
    fake.script.images.push({ kind: "rate_limited", retryAfterSeconds: 7 });
    const error = await failure();
    expect(error.code).toBe("rate_limited");
    expect(error.retryAfterMs).toBe(7000);
    expect(error.details).toMatchObject({ upstreamStatus: 429, upstreamCode: "rate_limit_exceeded" });
  });

  it("response.failed rate_limit_exceeded 'try again in N s': rate_limited with retryAfter", async () => {
    fake.script.responses.push({
      kind: "failed",
      code: "rate_limit_exceeded",
      message: "Rate limit reached. Please try again in 12s.",
    });
    const error = await failure({ initialRoute: "responses" });
    expect(error.code).toBe("rate_limited");
    expect(error.retryAfterMs).toBe(12_000);
    expect(error.details.upstreamStatus).toBeUndefined();
  });

  it("response.failed usage_not_included and a bare error event are classified the same way", async () => {
    fake.script.responses.push({ kind: "failed", code: "usage_not_included", message: "Not in your plan" });
    expect((await failure({ initialRoute: "responses" })).code).toBe("plan_not_supported");
    fake.script.responses.push({ kind: "error_event", code: "server_is_overloaded", message: "Overloaded" });
    const overloaded = await failure({ initialRoute: "responses" });
    expect(overloaded).toMatchObject({ code: "upstream_failed", retryable: true });
    expect(overloaded.details).toMatchObject({ upstreamCode: "server_is_overloaded", accountFault: true });
  });

  it("400: upstream_refused with upstream's message verbatim (redacted), not the account's fault", async () => {
    const leaked = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEyMyJ9.c2lnbmF0dXJlLWJ5dGVz";
    fake.script.images.push({
      kind: "bad_request",
      message: `The 'gpt-image-2' model requires a newer version of Codex. ${leaked}`,
    });
    const error = await failure();
    expect(error.code).toBe("upstream_refused");
    expect(error.message).toContain("The 'gpt-image-2' model requires a newer version of Codex.");
    expect(error.message).not.toContain(leaked);
    expect(error.details).toMatchObject({ upstreamStatus: 400, accountFault: false });
    expect(error.retryable).toBe(false);

    fake.script.images.push({ kind: "bad_request", message: "Instructions are required", shape: "detail" });
    expect((await failure()).message).toBe("Instructions are required");
  });

  it("Cloudflare HTML 403: upstream_blocked, one request, never looped", async () => {
    fake.script.images.push({ kind: "cloudflare" });
    const error = await failure();
    expect(error.code).toBe("upstream_blocked");
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/Attention Required/);
    expect(error.message).toMatch(/1010/);
    expect(fake.requests).toHaveLength(1);
  });

  it("5xx: upstream_failed, retryable, account at fault", async () => {
    fake.script.images.push({ kind: "server_error", status: 502 });
    const error = await failure();
    expect(error).toMatchObject({ code: "upstream_failed", retryable: true });
    expect(error.details).toMatchObject({ upstreamStatus: 502, accountFault: true });
  });

  it("a connection that dies: upstream_failed", async () => {
    fake.script.images.push({ kind: "cut" });
    expect(await failure()).toMatchObject({ code: "upstream_failed", retryable: true });
    const closed = await startFakeCodexBackend();
    const deadUrl = closed.baseUrl;
    await closed.close();
    expect(await failure({ baseUrl: deadUrl })).toMatchObject({
      code: "upstream_failed",
      details: { accountFault: true },
    });
  });

  it("a stream cut before any image on the responses route: upstream_failed (stream cut)", async () => {
    fake.script.responses.push({ kind: "cut" });
    const error = await failure({ initialRoute: "responses" });
    expect(error.code).toBe("upstream_failed");
    expect(error.message).toMatch(/stream was cut/);
  });

  it("a completed response with only text: upstream_refused, a decline rather than an account fault", async () => {
    fake.script.responses.push({ kind: "text_only", text: "I can't draw that." });
    const error = await failure({ initialRoute: "responses" });
    expect(error.code).toBe("upstream_refused");
    // The message arrives in output_item.done and again in response.completed: its text is told once.
    expect(error.message).toBe("The model answered without drawing: I can't draw that.");
    expect(error.details).toMatchObject({ accountFault: false, declined: true });
  });

  it("bytes that are not an image: upstream_failed", async () => {
    fake.script.images.push({ kind: "not_an_image" });
    expect((await failure()).code).toBe("upstream_failed");
    fake.script.responses.push({ kind: "not_an_image" });
    expect((await failure({ initialRoute: "responses" })).code).toBe("upstream_failed");
  });

  it("a login-less account: login_required without any request", async () => {
    const error = await rejectionOf(backendFor().generate({ prompt: "x" }, { account: { label: "empty" } }));
    expect(error).toMatchObject({
      code: "login_required",
      details: { account: "empty", accountFault: true },
    });
    expect(fake.requests).toHaveLength(0);
  });
});

describe("codex-http 401 recovery", () => {
  it("asks the credentials once and retries once with the recovered token", async () => {
    fake.script.images.push({ kind: "unauthorized" });
    const credentials = recordingCredentials();
    const result = await backendFor().generate({ prompt: "x" }, accountOptions(credentials));
    expect(result.images).toHaveLength(1);
    expect(credentials.recoveries).toEqual([credentials.tokens[0]?.accessToken]);
    expect(fake.requests.map((r) => r.headers.authorization)).toEqual([
      `Bearer ${credentials.tokens[0]?.accessToken}`,
      `Bearer ${credentials.tokens[1]?.accessToken}`,
    ]);
  });

  it("a second 401 fails the account with login_required", async () => {
    fake.script.images.push({ kind: "unauthorized" }, { kind: "unauthorized" });
    const credentials = recordingCredentials();
    const error = await failure({}, credentials);
    expect(error.code).toBe("login_required");
    expect(error.details).toMatchObject({ upstreamStatus: 401, accountFault: true, account: "work" });
    expect(credentials.recoveries).toHaveLength(1);
    expect(fake.requests).toHaveLength(2);
  });

  it("a recovery that fails is login_required", async () => {
    fake.script.images.push({ kind: "unauthorized" });
    const credentials = recordingCredentials({ failRecovery: new Error("refresh_token_reused") });
    const error = await failure({}, credentials);
    expect(error.code).toBe("login_required");
    expect(fake.requests).toHaveLength(1);
  });

  it("end to end: an unknown token gets 401, the Codex home refreshes through the token endpoint, the retry succeeds", async () => {
    const strict = await startFakeCodexBackend({ auth: "issued" });
    const home = await createCodexHome();
    try {
      const credentials = createCodexHomeCredentials({
        home: home.home,
        tokenUrl: strict.tokenUrl,
        client: TEST_CLIENT,
        fetch: exactFetch,
      });
      const result = await createCodexHttpBackend({
        baseUrl: strict.baseUrl,
        client: TEST_CLIENT,
        fetch: exactFetch,
      }).generate({ prompt: "x" }, { account: { label: "home", credentials } });
      expect(result.images).toHaveLength(1);
      expect(strict.tokens.refreshes).toBe(1);
      expect(strict.tokens.reuses).toEqual([]);
      // The refresh a 401 triggered says so, with the CLI's headers (the fake checks them too).
      expect(strict.mismatches).toEqual([]);
      const refresh = strict.requests.find((r) => r.url === "/oauth/token");
      expect(refresh?.json).toMatchObject({ refresh_reason: "unauthorized_recovery" });
      expect(refresh?.headers["user-agent"]).toBe(
        "codex_exec/0.169.0 (Debian 12.0.0; x86_64) xterm (codex_exec; 0.169.0)",
      );
      const auth = JSON.parse(await readFile(home.authPath, "utf8")) as { tokens: { access_token: string } };
      expect(auth.tokens.access_token).not.toBe(home.accessToken);
      expect(
        strict.requests
          .filter((r) => r.url.endsWith("/images/generations"))
          .map((r) => r.headers.authorization),
      ).toEqual([`Bearer ${home.accessToken}`, `Bearer ${auth.tokens.access_token}`]);
    } finally {
      await home.cleanup();
      await strict.close();
    }
  });
});

describe("codex-http timeouts and cancellation", () => {
  it("idle timeout after the headers, on the injected clock", async () => {
    fake.script.responses.push({ kind: "stall", afterHeaders: true });
    const pending = rejectionOf(
      backendFor({ initialRoute: "responses" }).generate(
        { prompt: "x" },
        accountOptions(recordingCredentials()),
      ),
    );
    const [call] = await fake.waitForCalls(1);
    await clock.advance(119_000);
    expect(call?.completed).toBe(false);
    await clock.advance(1_000);
    const error = await pending;
    expect(error).toMatchObject({
      code: "upstream_timeout",
      retryable: true,
      details: { timeout: "idle", accountFault: true },
    });
    await call?.closed;
  });

  it("idle timeout before any header, on the native route", async () => {
    fake.script.images.push({ kind: "stall" });
    const pending = rejectionOf(
      backendFor().generate({ prompt: "x" }, accountOptions(recordingCredentials())),
    );
    const [call] = await fake.waitForCalls(1);
    await clock.advance(120_000);
    expect(await pending).toMatchObject({ code: "upstream_timeout", details: { timeout: "idle" } });
    await call?.closed;
  });

  it("total timeout even while keep-alive bytes keep the idle timer from firing", async () => {
    fake.script.responses.push({ kind: "stall", afterHeaders: true, keepAliveMs: 5 });
    const pending = rejectionOf(
      backendFor({ initialRoute: "responses" }).generate(
        { prompt: "x" },
        accountOptions(recordingCredentials()),
      ),
    );
    const [call] = await fake.waitForCalls(1);
    const chunksSeen = async (): Promise<void> => {
      // Let a few real keep-alive chunks arrive so the idle countdown restarts at the advanced time.
      await new Promise((resolve) => setTimeout(resolve, 40));
    };
    for (let elapsed = 0; elapsed < 280_000; elapsed += 100_000) {
      await clock.advance(Math.min(100_000, 299_999 - elapsed));
      await chunksSeen();
    }
    expect(call?.completed).toBe(false);
    await clock.advance(1);
    expect(await pending).toMatchObject({ code: "upstream_timeout", details: { timeout: "total" } });
    await call?.closed;
  });

  it("abort: canceled, and the fake sees the connection close", async () => {
    fake.script.responses.push({ kind: "stall", afterHeaders: true });
    const controller = new AbortController();
    const pending = rejectionOf(
      backendFor({ initialRoute: "responses" }).generate(
        { prompt: "x" },
        accountOptions(recordingCredentials(), "work", { signal: controller.signal }),
      ),
    );
    const [call] = await fake.waitForCalls(1);
    controller.abort();
    expect(await pending).toMatchObject({ code: "canceled", details: { account: "work" } });
    await call?.closed;
    expect(call?.completed).toBe(false);
  });

  it("an already aborted signal sends nothing", async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await rejectionOf(
      backendFor().generate(
        { prompt: "x" },
        accountOptions(recordingCredentials(), "work", { signal: controller.signal }),
      ),
    );
    expect(error).toMatchObject({ code: "canceled" });
    expect(fake.requests).toHaveLength(0);
  });
});
