import { type ApiHarness, authJson, TEST_BASE_URL } from "@codex-img/api/testing";
import { bytesToBase64, createDemoBackend, sniffImage } from "@codex-img/core";
import { testPng } from "@codex-img/core/testing";
import { describe, expect, it } from "vitest";
import { harnessPerTest } from "./support/harness-per-test.js";
import { ADMIN_PASSWORD, adminCaller } from "./support/trpc-admin.js";

const start = harnessPerTest();

function post(h: ApiHarness, path: string, key: string, body: unknown, headers: Record<string, string> = {}) {
  return h.app.request(path, { method: "POST", headers: authJson(key, headers), body: JSON.stringify(body) });
}

/** The path of an absolute URL of ours, for `app.request`. */
function localPath(url: string): string {
  expect(url.startsWith(TEST_BASE_URL)).toBe(true);
  return url.slice(TEST_BASE_URL.length);
}

describe("POST /v1/images/generate", () => {
  it("answers 200 with image URLs that serve a real PNG", async () => {
    const h = await start();
    const key = await h.createKey();
    const response = await post(h, "/v1/images/generate", key, { prompt: "a lighthouse", size: "256x256" });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      id: string;
      status: string;
      images: Array<{ url: string; expires_at: string }>;
      created_at: string;
    };
    expect(body.id).toMatch(/^img_[a-z2-7]{26}$/);
    expect(body.status).toBe("succeeded");
    expect(body.images).toHaveLength(1);
    expect(Date.parse(body.images[0]?.expires_at ?? "")).toBeGreaterThan(Date.now() + 6 * 24 * 3_600_000);
    expect(Number.isNaN(Date.parse(body.created_at))).toBe(false);

    const image = await h.app.request(localPath(body.images[0]?.url ?? ""));
    expect(image.status).toBe(200);
    expect(image.headers.get("content-type")).toBe("image/png");
    expect(image.headers.get("cache-control")).toContain("max-age");
    const bytes = new Uint8Array(await image.arrayBuffer());
    expect(sniffImage(bytes)).toEqual({ format: "png", width: 256, height: 256 });
  });

  it("answers 202 with the id and a poll URL when the wait runs out", async () => {
    const h = await start({ startRunner: false, options: { requestWaitTimeoutMs: 50 } });
    const key = await h.createKey();
    const response = await post(h, "/v1/images/generate", key, { prompt: "slow" });
    expect(response.status).toBe(202);
    const body = (await response.json()) as { id: string; status: string; poll_url: string };
    expect(body.status).toBe("queued");
    expect(body.poll_url).toBe(`${TEST_BASE_URL}/v1/images/jobs/${body.id}`);
    expect(response.headers.get("location")).toBe(body.poll_url);

    await h.runner.runOnce();
    const polled = await h.app.request(localPath(body.poll_url), { headers: authJson(key) });
    const job = (await polled.json()) as { status: string; images: unknown[] };
    expect(job.status).toBe("succeeded");
    expect(job.images).toHaveLength(1);
  });

  it("answers a failed job with its error code, status and id", async () => {
    const h = await start({
      backend: {
        kind: "demo",
        generate: async () => {
          throw new (await import("@codex-img/core")).CodexImgError(
            "upstream_refused",
            "The model declined.",
          );
        },
      },
    });
    const key = await h.createKey();
    const response = await post(h, "/v1/images/generate", key, { prompt: "refused" });
    expect(response.status).toBe(422);
    const body = (await response.json()) as { id: string; error: { code: string }; detail: string };
    expect(body.error.code).toBe("upstream_refused");
    expect(body.detail).toBe("The model declined.");
    expect(body.id).toMatch(/^img_/);
  });

  it("accepts references in the list and the old alias, forcing count to 1", async () => {
    const h = await start({ startRunner: false });
    const key = await h.createKey();
    const png = bytesToBase64(await testPng(64, 64));
    const list = await post(h, "/v1/images/jobs", key, {
      prompt: "merge",
      count: 4,
      reference_images_base64: [png, `data:image/png;base64,${png}`],
    });
    expect(list.status).toBe(202);
    const alias = await post(h, "/v1/images/jobs", key, { prompt: "edit", reference_image_base64: png });
    expect(alias.status).toBe(202);
    const { id } = (await list.json()) as { id: string };
    const full = (await (await h.app.request(`/v1/jobs/${id}`, { headers: authJson(key) })).json()) as {
      request: { n: number; reference_images: number; size: string; quality: string };
    };
    expect(full.request).toMatchObject({ n: 1, reference_images: 2, size: "1024x1024", quality: "medium" });
  });
});

describe("validation at the door", () => {
  const cases: Array<[string, unknown, string]> = [
    ["bad base64", { prompt: "x", reference_images_base64: ["not base64!!"] }, "reference_images_base64"],
    [
      "non-image bytes",
      { prompt: "x", reference_images_base64: [btoa("hello, world, not an image")] },
      "reference_images_base64",
    ],
    ["bad alias", { prompt: "x", reference_image_base64: "%%%" }, "reference_image_base64"],
    [
      "too many references",
      { prompt: "x", reference_images_base64: Array(17).fill("AAAA") },
      "reference_images_base64",
    ],
    ["bad size", { prompt: "x", size: "big" }, "size"],
    ["size out of range", { prompt: "x", size: "9999x9999" }, "size"],
    ["empty prompt", { prompt: "" }, "prompt"],
    ["blank prompt", { prompt: "   " }, "prompt"],
    ["too long prompt", { prompt: "x".repeat(32_001) }, "prompt"],
    ["bad quality", { prompt: "x", quality: "ultra" }, "quality"],
    ["count too high", { prompt: "x", count: 5 }, "count"],
    ["wrong type", { prompt: 42 }, "prompt"],
    ["not an object", [1, 2], "body"],
  ];

  it.each(cases)("%s → 400 with a code and param, no job", async (_name, body, param) => {
    const h = await start({ startRunner: false });
    const key = await h.createKey();
    for (const path of ["/v1/images/generate", "/v1/images/jobs"]) {
      const response = await post(h, path, key, body);
      expect(response.status).toBe(400);
      const reply = (await response.json()) as { error: { code: string; param: string }; detail: string };
      expect(reply.error.code).toBe("invalid_request");
      expect(reply.error.param).toBe(param);
      expect(typeof reply.detail).toBe("string");
    }
    expect(await h.countJobs()).toBe(0);
  });

  it("refuses malformed JSON, a wrong content type and a body over the limit", async () => {
    const h = await start({ startRunner: false, options: { maxBodyBytes: 1024 } });
    const key = await h.createKey();
    const malformed = await h.app.request("/v1/images/generate", {
      method: "POST",
      headers: authJson(key),
      body: '{"prompt": ',
    });
    const wrongType = await h.app.request("/v1/images/generate", {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "text/plain" },
      body: JSON.stringify({ prompt: "x" }),
    });
    const huge = await post(h, "/v1/images/generate", key, { prompt: "x".repeat(2000) });
    for (const [response, status, code] of [
      [malformed, 400, "invalid_request"],
      [wrongType, 400, "invalid_request"],
      [huge, 413, "body_too_large"],
    ] as const) {
      expect(response.status).toBe(status);
      const reply = (await response.json()) as { error: { code: string; param: string } };
      expect(reply.error).toMatchObject({ code, param: "body" });
    }
    expect(await h.countJobs()).toBe(0);
  });

  it("leaks no stack or path in any error", async () => {
    const h = await start({ startRunner: false });
    const key = await h.createKey();
    const response = await post(h, "/v1/images/generate", key, {
      prompt: "x",
      reference_images_base64: ["////"],
    });
    const text = await response.text();
    expect(text).not.toMatch(/\/tmp|\.ts:|at [A-Za-z]+ \(/);
  });
});

describe("jobs", () => {
  it("creates, gets, and hides another key's job", async () => {
    const h = await start({ startRunner: false });
    const mine = await h.createKey(["generate"]);
    const other = await h.createKey(["generate"]);
    const reader = await h.createKey(["jobs:read"]);
    const created = await post(h, "/v1/images/jobs", mine, { prompt: "queued" });
    expect(created.status).toBe(202);
    const { id, status } = (await created.json()) as { id: string; status: string };
    expect(status).toBe("queued");

    const got = await h.app.request(`/v1/images/jobs/${id}`, { headers: authJson(mine) });
    expect(got.status).toBe(200);
    const view = (await got.json()) as Record<string, unknown>;
    expect(Object.keys(view)).toEqual(
      expect.arrayContaining(["id", "status", "images", "error", "created_at", "expires_at"]),
    );
    expect(view).toMatchObject({ id, status: "queued", images: [], error: null });

    const hidden = await h.app.request(`/v1/images/jobs/${id}`, { headers: authJson(other) });
    expect(hidden.status).toBe(404);
    expect(((await hidden.json()) as { error: { code: string } }).error.code).toBe("not_found");
    expect((await h.app.request(`/v1/images/jobs/${id}`, { headers: authJson(reader) })).status).toBe(200);
    expect((await h.app.request("/v1/images/jobs/img_nope", { headers: authJson(mine) })).status).toBe(404);
  });

  it("returns the same job for a repeated Idempotency-Key and refuses another body under it", async () => {
    const h = await start({ startRunner: false });
    const key = await h.createKey(["generate"], { imagesPerDay: 1 });
    const first = await post(h, "/v1/images/jobs", key, { prompt: "once" }, { "idempotency-key": "abc-1" });
    const again = await post(h, "/v1/images/jobs", key, { prompt: "once" }, { "idempotency-key": "abc-1" });
    expect(first.status).toBe(202);
    // Counted once: the quota of one image does not refuse the repeat.
    expect(again.status).toBe(202);
    expect(((await again.json()) as { id: string }).id).toBe(((await first.json()) as { id: string }).id);
    const different = await post(
      h,
      "/v1/images/jobs",
      key,
      { prompt: "other" },
      { "idempotency-key": "abc-1" },
    );
    expect(different.status).toBe(400);
    expect(((await different.json()) as { error: { param: string } }).error.param).toBe("idempotency_key");
    expect(await h.countJobs()).toBe(1);
  });

  it("lists own jobs with cursor paging, cancels, and shows the full job", async () => {
    const h = await start({ startRunner: false });
    const key = await h.createKey();
    const other = await h.createKey();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await post(h, "/v1/images/jobs", key, { prompt: `job ${i}` });
      ids.push(((await response.json()) as { id: string }).id);
    }
    await post(h, "/v1/images/jobs", other, { prompt: "not mine" });

    const page1 = (await (await h.app.request("/v1/jobs?limit=2", { headers: authJson(key) })).json()) as {
      data: Array<{ id: string }>;
      next_cursor: string | null;
    };
    expect(page1.data.map((j) => j.id)).toEqual([ids[2], ids[1]]);
    const page2 = (await (
      await h.app.request(`/v1/jobs?limit=2&cursor=${encodeURIComponent(page1.next_cursor ?? "")}`, {
        headers: authJson(key),
      })
    ).json()) as { data: Array<{ id: string }>; next_cursor: string | null };
    expect(page2.data.map((j) => j.id)).toEqual([ids[0]]);
    expect(page2.next_cursor).toBeNull();
    expect((await h.app.request("/v1/jobs?cursor=garbage", { headers: authJson(key) })).status).toBe(400);

    const forbidden = await h.app.request(`/v1/jobs/${ids[0]}/cancel`, {
      method: "POST",
      headers: authJson(other),
    });
    expect(forbidden.status).toBe(404);
    const canceled = await h.app.request(`/v1/jobs/${ids[0]}/cancel`, {
      method: "POST",
      headers: authJson(key),
    });
    expect(canceled.status).toBe(200);
    const full = (await canceled.json()) as { status: string; events: number; attempts: unknown[] };
    expect(full).toMatchObject({ status: "canceled", events: 2, attempts: [] });
  });

  it("answers every poll of a finished job alike, to its readers only, until the job is deleted", async () => {
    const h = await start({ options: { adminPassword: ADMIN_PASSWORD } });
    const key = await h.createKey();
    const other = await h.createKey(["generate"]);
    const generated = await post(h, "/v1/images/generate", key, { prompt: "polled often" });
    const { id } = (await generated.json()) as { id: string };
    const read = async (path: string, reader = key) => {
      const response = await h.app.request(path, { headers: authJson(reader) });
      return {
        status: response.status,
        type: response.headers.get("content-type"),
        text: await response.text(),
      };
    };
    for (const path of [`/v1/images/jobs/${id}`, `/v1/jobs/${id}`]) {
      const first = await read(path);
      expect(first).toMatchObject({ status: 200, type: "application/json" });
      expect(JSON.parse(first.text)).toMatchObject({ id, status: "succeeded" });
      expect(await read(path)).toEqual(first);
      expect((await read(path, other)).status).toBe(404);
    }
    expect(JSON.parse((await read(`/v1/jobs/${id}`)).text)).toMatchObject({ events: 4 });

    const { caller } = await adminCaller(h);
    expect(await caller.jobs.delete({ id })).toMatchObject({ deleted: true });
    expect((await read(`/v1/images/jobs/${id}`)).status).toBe(404);
    expect((await read(`/v1/jobs/${id}`)).status).toBe(404);
  });

  it("checks the list's declared query before reading history, in our error shape, after the key", async () => {
    const h = await start({ startRunner: false });
    const key = await h.createKey();
    for (const [query, param] of [
      ["limit=0", "limit"],
      ["limit=abc", "limit"],
      ["limit=101", "limit"],
      ["status=done", "status"],
    ] as const) {
      const response = await h.app.request(`/v1/jobs?${query}`, { headers: authJson(key) });
      expect(response.status, query).toBe(400);
      const body = (await response.json()) as { error: { code: string; param: string; message: string } };
      expect(body.error, query).toMatchObject({ code: "invalid_request", param });
      expect(body.error.message, query).toContain(param);
    }
    expect((await h.app.request("/v1/jobs?limit=0")).status).toBe(401);
  });

  it("streams events as SSE and resumes after Last-Event-ID", async () => {
    const h = await start({ startRunner: false });
    const key = await h.createKey();
    const { id } = (await (await post(h, "/v1/images/jobs", key, { prompt: "stream" })).json()) as {
      id: string;
    };
    await h.runner.runOnce();

    const stream = await h.app.request(`/v1/images/jobs/${id}/events`, { headers: authJson(key) });
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toContain("text/event-stream");
    const events = parseSse(await stream.text());
    expect(events.map((e) => e.event)).toEqual(["queued", "started", "progress", "succeeded"]);
    expect(events.map((e) => e.id)).toEqual(["1", "2", "3", "4"]);
    const done = JSON.parse(events[3]?.data ?? "{}") as { images: Array<{ url: string }> };
    expect(done.images[0]?.url).toMatch(/^https:\/\/img\.test\/generated\/img_/);

    const resumed = await h.app.request(`/v1/images/jobs/${id}/events`, {
      headers: { ...authJson(key), "last-event-id": "2" },
    });
    expect(parseSse(await resumed.text()).map((e) => e.id)).toEqual(["3", "4"]);
    const viaQuery = await h.app.request(`/v1/images/jobs/${id}/events?after=3`, { headers: authJson(key) });
    expect(parseSse(await viaQuery.text()).map((e) => e.event)).toEqual(["succeeded"]);

    const other = await h.createKey(["generate"]);
    expect((await h.app.request(`/v1/images/jobs/${id}/events`, { headers: authJson(other) })).status).toBe(
      404,
    );
  });
  it("streams partial images as URLs", async () => {
    const demo = createDemoBackend();
    const h = await start({
      startRunner: false,
      backend: {
        kind: "demo",
        async generate(request, options = {}) {
          const bytes = await testPng(16, 16);
          options.onEvent?.({
            type: "partial_image",
            index: 0,
            image: { bytes, format: "png", width: 16, height: 16 },
          });
          // The runner stores partials in the background; let it write the event before the result.
          await new Promise((resolve) => setTimeout(resolve, 100));
          return demo.generate(request, options);
        },
      },
    });
    const key = await h.createKey();
    const { id } = (await (await post(h, "/v1/images/jobs", key, { prompt: "partial" })).json()) as {
      id: string;
    };
    await h.runner.runOnce();
    const events = parseSse(
      await (await h.app.request(`/v1/images/jobs/${id}/events`, { headers: authJson(key) })).text(),
    );
    const partial = events.find((e) => e.event === "partial_image");
    const data = JSON.parse(partial?.data ?? "{}") as {
      index: number;
      image: { url: string; expires_at: string };
    };
    expect(data.index).toBe(0);
    expect(data.image.url).toMatch(/^https:\/\/img\.test\/generated\/img_/);
    expect(events.at(-1)?.event).toBe("succeeded");
  });
});

describe("keys and limits", () => {
  it("refuses missing, malformed, unknown, disabled and expired keys and missing scopes with reasons", async () => {
    const h = await start({ startRunner: false });
    const body = JSON.stringify({ prompt: "x" });
    const call = async (
      headers: Record<string, string>,
    ): Promise<[number, { error: { code: string; reason?: string } }]> => {
      const response = await h.app.request("/v1/images/jobs", {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
      });
      return [response.status, (await response.json()) as { error: { code: string; reason?: string } }];
    };
    const disabled = await h.services.keys.create({ name: "off", scopes: ["generate"] });
    await h.services.keys.setEnabled(disabled.key.id, false);
    const expired = await h.services.keys.create({
      name: "old",
      scopes: ["generate"],
      expiresAt: Date.now() - 1,
    });
    const readOnly = await h.createKey(["jobs:read"]);
    const generateOnly = await h.createKey(["generate"]);

    expect(await call({})).toEqual([
      401,
      expect.objectContaining({
        error: expect.objectContaining({ code: "unauthorized", reason: "missing_key" }),
      }),
    ]);
    expect((await call({ authorization: "Basic abc" }))[1].error.reason).toBe("malformed");
    expect((await call({ authorization: "Bearer sk-abc" }))[1].error.reason).toBe("malformed");
    expect((await call({ authorization: "Bearer cimg_unknown" }))[1].error.reason).toBe("unknown_key");
    expect((await call({ authorization: `Bearer ${disabled.rawKey}` }))[1].error.reason).toBe("disabled");
    expect((await call({ authorization: `Bearer ${expired.rawKey}` }))[1].error.reason).toBe("expired");
    const [status, scope] = await call({ authorization: `Bearer ${readOnly}` });
    expect(status).toBe(403);
    expect(scope.error).toMatchObject({ code: "forbidden", reason: "missing_scope" });
    // References need `edit`.
    const png = bytesToBase64(await testPng(64, 64));
    const edit = await post(h, "/v1/images/jobs", generateOnly, { prompt: "x", reference_image_base64: png });
    expect(edit.status).toBe(403);
    expect(await h.countJobs()).toBe(0);
  });

  it("100 parallel requests against 10 images a day make exactly 10 jobs", async () => {
    const h = await start({ startRunner: false, maxQueueLength: 1000 });
    const key = await h.createKey(["generate"], { imagesPerDay: 10 });
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) => post(h, "/v1/images/jobs", key, { prompt: `parallel ${i}` })),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(90);
    expect(await h.countJobs()).toBe(10);
    const refused = responses.find((r) => r.status === 429);
    if (!refused) throw new Error("expected a refusal");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(refused.headers.get("x-should-retry")).toBeNull();
    const body = (await refused.json()) as {
      error: { code: string; reason: string; retry_after_ms: number };
    };
    expect(body.error).toMatchObject({ code: "quota_exhausted", reason: "images_per_day" });
    expect(body.error.retry_after_ms).toBeGreaterThan(0);
  });

  it("counts images with count, and gives counts back when the queue is full", async () => {
    const h = await start({ startRunner: false, maxQueueLength: 1 });
    const key = await h.createKey(["generate"], { imagesPerDay: 6 });
    expect((await post(h, "/v1/images/jobs", key, { prompt: "four", count: 4 })).status).toBe(202);
    const full = await post(h, "/v1/images/jobs", key, { prompt: "two", count: 2 });
    expect(full.status).toBe(503);
    expect(Number(full.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await full.json()) as { error: { code: string } }).error.code).toBe("queue_full");
    // The sync endpoint answers at once too, without waiting for room.
    const started = Date.now();
    const sync = await post(h, "/v1/images/generate", key, { prompt: "two", count: 2 });
    expect(sync.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(2_000);
    // Refused requests took nothing: 2 more images still fit, 3 do not.
    await h.runner.runOnce();
    expect((await post(h, "/v1/images/jobs", key, { prompt: "three", count: 3 })).status).toBe(429);
    expect((await post(h, "/v1/images/jobs", key, { prompt: "two", count: 2 })).status).toBe(202);
  });

  it("limits requests per minute", async () => {
    const h = await start({ startRunner: false });
    const key = await h.createKey(["generate"], { requestsPerMinute: 2 });
    expect((await post(h, "/v1/images/jobs", key, { prompt: "1" })).status).toBe(202);
    expect((await post(h, "/v1/images/jobs", key, { prompt: "2" })).status).toBe(202);
    const third = await post(h, "/v1/images/jobs", key, { prompt: "3" });
    expect(third.status).toBe(429);
    const body = (await third.json()) as { error: { code: string; reason: string; retry_after_ms: number } };
    expect(body.error).toMatchObject({ code: "rate_limited", reason: "rate_per_minute" });
    expect(body.error.retry_after_ms).toBeLessThanOrEqual(60_000);
    expect(Number(third.headers.get("retry-after"))).toBeLessThanOrEqual(60);
  });

  it("holds max concurrent jobs under parallel requests and frees a slot when a job ends", async () => {
    const h = await start({ startRunner: false, maxQueueLength: 1000 });
    const key = await h.createKey(["generate"], { maxConcurrentJobs: 3 });
    const responses = await Promise.all(
      Array.from({ length: 30 }, (_, i) => post(h, "/v1/images/jobs", key, { prompt: `c ${i}` })),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(3);
    const refused = responses.find((r) => r.status === 429);
    if (!refused) throw new Error("expected a refusal");
    expect(((await refused.json()) as { error: { reason: string } }).error.reason).toBe(
      "max_concurrent_jobs",
    );
    expect(await h.countJobs()).toBe(3);
    await h.runner.runOnce();
    expect((await post(h, "/v1/images/jobs", key, { prompt: "next" })).status).toBe(202);
    expect((await post(h, "/v1/images/jobs", key, { prompt: "over" })).status).toBe(429);
  });
});

describe("/generated, /health, /ready", () => {
  it("answers 404 for unknown, malformed and traversal names", async () => {
    const h = await start({ startRunner: false });
    const paths = [
      "/generated/img_aaaaaaaaaaaaaaaaaaaaaaaaaa.png",
      "/generated/..%2F..%2Fetc%2Fpasswd",
      "/generated/..%2Fcodex-img.db",
      "/generated/%2e%2e%2fcodex-img.db",
      "/generated/img_AAAAAAAAAAAAAAAAAAAAAAAAAA.png",
      "/generated/ref_aaaaaaaaaaaaaaaaaaaaaaaaaa.png",
      "/generated/img_aaaaaaaaaaaaaaaaaaaaaaaaaa.png%00.txt",
      "/generated/",
    ];
    for (const path of paths) {
      const response = await h.app.request(path);
      expect(response.status, path).toBe(404);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("not_found");
    }
  });

  it("does not serve reference images", async () => {
    const h = await start({ startRunner: false });
    const stored = await h.services.images.put(await testPng(8, 8), { format: "png", prefix: "ref" });
    expect((await h.app.request(`/generated/${stored.key}`)).status).toBe(404);
  });

  it("answers /health and /ready", async () => {
    const h = await start({ startRunner: false });
    const health = await h.app.request("/health");
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", backend: "demo" });
    const ready = await h.app.request("/ready");
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready" });
  });

  it("is not ready without a usable account on a Codex backend, or without a database", async () => {
    const h = await start({ startRunner: false, services: { backend: "codex-http" } });
    const noPool = await h.app.request("/ready");
    expect(noPool.status).toBe(503);
    expect(((await noPool.json()) as { reasons: string[] }).reasons).toContain("no_accounts");
    h.database.close();
    const down = await h.app.request("/ready");
    expect(down.status).toBe(503);
    expect(((await down.json()) as { reasons: string[] }).reasons).toContain("database_unreachable");
  });

  it("answers unknown endpoints with a JSON 404", async () => {
    const h = await start({ startRunner: false });
    const response = await h.app.request("/v1/nothing");
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("not_found");
  });
});

function parseSse(text: string): Array<{ id?: string; event?: string; data?: string }> {
  return text
    .split("\n\n")
    .filter((block) => block.trim() && !block.startsWith(":"))
    .map((block) => {
      const out: { id?: string; event?: string; data?: string } = {};
      for (const line of block.split("\n")) {
        const at = line.indexOf(":");
        const field = line.slice(0, at);
        const value = line.slice(at + 1).replace(/^ /, "");
        if (field === "id" || field === "event" || field === "data") out[field] = value;
      }
      return out;
    });
}
