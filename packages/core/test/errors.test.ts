import { CodexImgError, ERROR_CODES, ERROR_HTTP_STATUS, jsonLogger, toCodexImgError } from "@codex-img/core";
import { describe, expect, it } from "vitest";

describe("CodexImgError", () => {
  it("maps every code to an HTTP status and carries retry facts", () => {
    for (const code of ERROR_CODES) expect(ERROR_HTTP_STATUS[code]).toBeGreaterThanOrEqual(400);
    const error = new CodexImgError("quota_exhausted", "Usage limit reached", {
      retryAfterMs: 5000,
      details: { resetsAt: 1_777_936_568_000, account: "work" },
    });
    expect(error).toMatchObject({
      code: "quota_exhausted",
      retryable: true,
      retryAfterMs: 5000,
      httpStatus: 429,
    });
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({
      code: "quota_exhausted",
      details: { account: "work" },
    });
  });

  it("never carries a token in its message, even when upstream text quotes one", () => {
    const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEyMyJ9.c2lnbmF0dXJlLWJ5dGVz";
    const error = new CodexImgError("upstream_refused", `bad header Authorization: Bearer ${jwt}`);
    expect(error.message).not.toContain(jwt);
    expect(error.message).toContain("[redacted");
  });

  it("turns an AbortError into canceled and anything else into the fallback code", () => {
    const abort = new DOMException("aborted", "AbortError");
    expect(toCodexImgError(abort).code).toBe("canceled");
    expect(toCodexImgError(new Error("boom"), "upstream_failed")).toMatchObject({
      code: "upstream_failed",
      message: "boom",
    });
  });
});

describe("jsonLogger", () => {
  it("writes one JSON line per record and scrubs secrets from fields", () => {
    const lines: string[] = [];
    const logger = jsonLogger({ level: "info", write: (l) => lines.push(l), now: () => 0 });
    logger.debug("hidden");
    logger.info("refreshed", { body: '{"refresh_token":"rt_secret_value_123"}' });
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0] ?? "{}");
    expect(record).toMatchObject({ level: "info", msg: "refreshed", time: "1970-01-01T00:00:00.000Z" });
    expect(lines[0]).not.toContain("rt_secret_value_123");
  });
});
