import OpenAI, { type APIError } from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type ServedOpenAi, serveOpenAiHarness } from "./support/openai-harness.js";

let served: ServedOpenAi;
/** Released by each test that holds the backend; a no-op otherwise. */
let hold: Promise<void> | undefined;
let release: () => void = () => {};

function holdBackend(): void {
  hold = new Promise((resolve) => {
    release = () => {
      hold = undefined;
      resolve();
    };
  });
}

beforeAll(async () => {
  served = await serveOpenAiHarness({
    beforeGenerate: () => hold ?? Promise.resolve(),
    // Long enough for an unheld demo job on a loaded CI machine; the 504 tests hold the backend past it.
    options: { requestWaitTimeoutMs: 3_000 },
    partialImages: 0,
  });
});

afterEach(() => {
  release();
  served.hits.length = 0;
});

afterAll(async () => {
  await served.close();
});

function generations(): number {
  return served.hits.filter((hit) => hit === "POST /v1/images/generations").length;
}

describe("OpenAI-shaped errors raise the SDK's typed errors", () => {
  it("AuthenticationError on a bad key", async () => {
    const error = await served
      .client("cimg_not-a-real-key")
      .images.generate({ prompt: "x" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((error as APIError).status).toBe(401);
    expect((error as APIError).type).toBe("authentication_error");
    expect((error as APIError).code).toBe("unauthorized");
  });

  it("BadRequestError naming the param on a bad size, n and quality, and on broken JSON", async () => {
    const client = served.client(await served.createKey());
    for (const [body, param] of [
      [{ prompt: "x", size: "9x9" }, "size"],
      [{ prompt: "x", n: 11 }, "n"],
      [{ prompt: "x", quality: "ultra" }, "quality"],
      [{ prompt: "x", model: "gpt-4o" }, "model"],
      [{ prompt: "" }, "prompt"],
      [{ prompt: "x", partial_images: 4 }, "partial_images"],
    ] as const) {
      const error = await client.images
        .generate(body as unknown as OpenAI.ImageGenerateParamsNonStreaming)
        .catch((e: unknown) => e);
      expect(error, JSON.stringify(body)).toBeInstanceOf(OpenAI.BadRequestError);
      expect((error as APIError).param).toBe(param);
      expect((error as APIError).type).toBe("invalid_request_error");
    }
    const broken = await fetch(`${served.origin}/v1/images/generations`, {
      method: "POST",
      headers: { authorization: `Bearer ${client.apiKey}`, "content-type": "application/json" },
      body: "{not json",
    });
    expect(broken.status).toBe(400);
    expect(await broken.json()).toEqual({
      error: {
        message: "The request body is not valid JSON.",
        type: "invalid_request_error",
        param: "body",
        code: "invalid_request",
      },
    });
  });

  it("PermissionDeniedError on a missing scope", async () => {
    const client = served.client(await served.createKey(["jobs:read"]));
    const error = await client.images.generate({ prompt: "x" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((error as APIError).type).toBe("permission_error");
    const generateOnly = served.client(await served.createKey(["generate"]));
    const editError = await fetch(`${served.origin}/v1/images/edits`, {
      method: "POST",
      headers: { authorization: `Bearer ${generateOnly.apiKey}`, "content-type": "application/json" },
      body: "{}",
    });
    expect(editError.status).toBe(403);
  });

  it("RateLimitError on exhausted quota, with x-should-retry: false and a real retry-after: not retried", async () => {
    const client = served.client(await served.createKey(["generate"], { imagesPerDay: 1 }), {
      maxRetries: 2,
    });
    await client.images.generate({ prompt: "the only one today", size: "256x256" });
    served.hits.length = 0;
    const error = await client.images.generate({ prompt: "one more" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const apiError = error as APIError;
    expect(apiError.code).toBe("quota_exhausted");
    expect(apiError.headers?.get("x-should-retry")).toBe("false");
    const retryAfter = Number(apiError.headers?.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    expect(Number(apiError.headers?.get("retry-after-ms"))).toBeGreaterThan(0);
    expect(generations()).toBe(1);
  });

  it("a plain 429 rate_limited (the key's own limit) is retried by the SDK", async () => {
    const rawKey = await served.createKey(["generate"], { maxConcurrentJobs: 1 });
    holdBackend();
    // The first job holds the key's only slot; its wait ends (timeout) but the job keeps running.
    const first = await fetch(`${served.origin}/v1/images/generations`, {
      method: "POST",
      headers: { authorization: `Bearer ${rawKey}`, "content-type": "application/json" },
      body: JSON.stringify({ prompt: "slot holder" }),
    });
    expect(first.status).toBe(504);
    served.hits.length = 0;
    const error = await served
      .client(rawKey, { maxRetries: 1 })
      .images.generate({ prompt: "second" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const apiError = error as APIError;
    expect(apiError.code).toBe("rate_limited");
    expect(apiError.headers?.get("x-should-retry")).toBeNull();
    expect(apiError.headers?.get("retry-after-ms")).toBe("1000");
    expect(generations()).toBe(2);
  });

  it("a wait that times out answers 504 naming the job, with the job id header, and is not retried", async () => {
    const client = served.client(await served.createKey(), { maxRetries: 2 });
    holdBackend();
    const error = await client.images.generate({ prompt: "slow" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    const apiError = error as APIError;
    expect(apiError.status).toBe(504);
    const jobId = apiError.headers?.get("x-codex-img-job-id") ?? "";
    expect(jobId).toMatch(/^img_/);
    expect(apiError.message).toContain(jobId);
    expect(apiError.message).toContain(`/v1/images/jobs/${jobId}`);
    expect(apiError.headers?.get("x-should-retry")).toBe("false");
    expect(generations()).toBe(1);
    // The job was not canceled by the reply: it finishes once the backend is released.
    release();
    const job = await served.services.queue.waitForJob(jobId, { timeoutMs: 10_000 });
    expect(job.state).toBe("succeeded");
  });

  it("a failed job answers with its error; never a stack or a path", async () => {
    const failing = await serveOpenAiHarness({
      beforeGenerate: async () => {
        throw new Error("SQLITE_BUSY at /var/lib/secret/db.sqlite");
      },
      partialImages: 0,
    });
    try {
      const failingClient = failing.client(await failing.createKey());
      const error = await failingClient.images.generate({ prompt: "x" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.InternalServerError);
      const body = JSON.stringify((error as APIError).error);
      expect(body).not.toContain("/var/lib");
      expect(body).not.toContain("SQLITE");
      expect((error as APIError).code).toBe("internal");
    } finally {
      await failing.close();
    }
  });

  it("an error during a stream arrives as an error event the SDK raises", async () => {
    const failing = await serveOpenAiHarness({
      beforeGenerate: async () => {
        const { CodexImgError } = await import("@codex-img/core");
        throw new CodexImgError("upstream_refused", "The model declined to draw this.");
      },
      partialImages: 0,
    });
    try {
      const stream = await failing
        .client(await failing.createKey())
        .images.generate({ prompt: "x", stream: true });
      const error = await (async () => {
        for await (const _event of stream) {
          // no events before the error
        }
      })().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.APIError);
      expect((error as APIError).message).toContain("declined");
      expect((error as APIError).code).toBe("upstream_refused");
    } finally {
      await failing.close();
    }
  });
});

describe("the door", () => {
  it("answers a body over the limit with 413 in OpenAI's shape", async () => {
    const small = await serveOpenAiHarness({ options: { maxBodyBytes: 1024 }, partialImages: 0 });
    try {
      const response = await fetch(`${small.origin}/v1/images/generations`, {
        method: "POST",
        headers: { authorization: `Bearer ${await small.createKey()}`, "content-type": "application/json" },
        body: JSON.stringify({ prompt: "x".repeat(4096) }),
      });
      expect(response.status).toBe(413);
      expect(await response.json()).toMatchObject({
        error: { type: "invalid_request_error", param: "body", code: "body_too_large" },
      });
    } finally {
      await small.close();
    }
  });

  it("returns the same job for a repeated Idempotency-Key", async () => {
    const client = served.client(await served.createKey());
    const first = await client.images
      .generate({ prompt: "once" }, { headers: { "Idempotency-Key": "abc-1" } })
      .withResponse();
    const second = await client.images
      .generate({ prompt: "once" }, { headers: { "Idempotency-Key": "abc-1" } })
      .withResponse();
    const id = first.response.headers.get("x-codex-img-job-id");
    expect(id).toMatch(/^img_/);
    expect(second.response.headers.get("x-codex-img-job-id")).toBe(id);
  });

  it("cancels a streamed job when the caller hangs up", async () => {
    const client = served.client(await served.createKey());
    holdBackend();
    const controller = new AbortController();
    const { response } = await client.images
      .generate({ prompt: "abandoned", stream: true }, { signal: controller.signal })
      .withResponse();
    const jobId = response.headers.get("x-codex-img-job-id") ?? "";
    expect(jobId).toMatch(/^img_/);
    controller.abort();
    await expect
      .poll(async () => (await served.services.queue.get(jobId))?.cancelRequested, { timeout: 5_000 })
      .toBe(true);
    // The held backend ignores its signal; once it returns, the worker records the cancel.
    release();
    const job = await served.services.queue.waitForJob(jobId, { timeoutMs: 5_000 });
    expect(job.state).toBe("canceled");
  });
});
