import { type ApiHarness, createApiHarness } from "@codex-img/api/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** One UTF-8 rule for every route that takes a body: invalid bytes are refused 400, never patched to U+FFFD. */
describe("invalid UTF-8 in a request body", () => {
  let h: ApiHarness;
  let key: string;
  beforeAll(async () => {
    h = await createApiHarness({ startRunner: false });
    key = (await h.services.keys.create({ name: "k", scopes: ["generate", "edit"] })).rawKey;
  });
  afterAll(async () => {
    await h.close();
  });

  const bad = new Uint8Array([
    ...new TextEncoder().encode('{"prompt":"a '),
    0xff,
    0xfe,
    ...new TextEncoder().encode(' fox","model":"gpt-image-2"}'),
  ]);

  it.each([
    "/v1/images/generate",
    "/v1/images/jobs",
    "/v1/images/generations",
    "/v1/images/edits",
    "/v1/chat/completions",
    "/trpc/images.generate",
  ])("%s answers 400 invalid_request and creates no job", async (path) => {
    const before = await h.countJobs();
    const reply = await h.app.request(path, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: bad,
    });
    expect(reply.status).toBe(400);
    const body = (await reply.json()) as { error: { code?: string; data?: { code: string } } };
    expect(body.error.data?.code ?? body.error.code).toBe("invalid_request");
    expect(await h.countJobs()).toBe(before);
  });

  it("tRPC batches get one error per call, in tRPC's shape", async () => {
    const reply = await h.app.request("/trpc/images.generate?batch=1", {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: new Uint8Array([...new TextEncoder().encode('{"0":{"prompt":"'), 0xc3, 0x28, 0x22, 0x7d, 0x7d]),
    });
    expect(reply.status).toBe(400);
    expect(await reply.json()).toEqual([
      {
        error: {
          message: "The request body is not valid UTF-8.",
          code: -32600,
          data: { code: "invalid_request", httpStatus: 400, path: "images.generate", param: "body" },
        },
      },
    ]);
  });
});
