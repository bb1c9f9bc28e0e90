import {
  CodexImgError,
  createDemoBackend,
  type GenerateOptions,
  type ImageBackend,
  type ImageRequest,
  sniffImage,
} from "@codex-img/core";
import { testPng } from "@codex-img/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CodexImgClientError, createClient, type JobEventView, loginAdmin } from "../src/index.js";
import { type ServedApi, serveApi } from "./support/api-server.js";
import { closedPortUrl } from "./support/server-process.js";

const ADMIN_PASSWORD = "correct horse battery staple";

/** The demo backend, except prompts that ask for it: "slow" waits for `release`, "refuse" is refused. */
function scriptedBackend(): { backend: ImageBackend; release: () => void; seen: ImageRequest[] } {
  const demo = createDemoBackend();
  const seen: ImageRequest[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  return {
    seen,
    release: () => release(),
    backend: {
      kind: "demo",
      async generate(request: ImageRequest, options?: GenerateOptions) {
        seen.push(request);
        if (request.prompt.startsWith("slow")) await gate;
        if (request.prompt.startsWith("refuse")) {
          throw new CodexImgError("upstream_refused", "The model declined to draw this.");
        }
        return demo.generate(request, options);
      },
    },
  };
}

async function failure(promise: Promise<unknown>): Promise<CodexImgClientError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CodexImgClientError);
  return error as CodexImgClientError;
}

describe("createClient against a served API", () => {
  let api: ServedApi;
  let scripted: ReturnType<typeof scriptedBackend>;
  let key: string;

  beforeAll(async () => {
    scripted = scriptedBackend();
    api = await serveApi({ backend: scripted.backend, api: { adminPassword: ADMIN_PASSWORD } });
    key = await api.createKey();
  });

  afterAll(async () => {
    scripted.release();
    await api.close();
  });

  it("generate waits for the job, reports its events and returns downloadable images", async () => {
    const client = createClient({ baseUrl: `${api.url}/`, apiKey: key });
    const events: JobEventView[] = [];
    const job = await client.generate(
      { prompt: "a lighthouse", size: "1024x1024", outputFormat: "png", n: 2 },
      { onEvent: (event) => events.push(event) },
    );
    expect(job.status).toBe("succeeded");
    expect(job.images).toHaveLength(2);
    expect(events[0]?.type).toBe("queued");
    expect(events.at(-1)?.type).toBe("succeeded");
    expect(events.map((event) => event.seq)).toEqual(events.map((_, i) => i + 1));
    const bytes = await client.download(job.images[0] ?? "");
    expect(sniffImage(bytes)?.format).toBe("png");
  });

  it("generate with wait: false returns the queued job at once", async () => {
    const client = createClient({ baseUrl: api.url, apiKey: key });
    const job = await client.generate({ prompt: "a quick one" }, { wait: false });
    expect(["queued", "running", "succeeded"]).toContain(job.status);
    expect(job.id).toMatch(/^img_/);
    const done = await client.waitForJob(job.id);
    expect(done.status).toBe("succeeded");
  });

  it("edit sends every reference image and follows the job", async () => {
    const client = createClient({ baseUrl: api.url, apiKey: key });
    const a = await testPng(64, 64);
    const b = new Blob([(await testPng(80, 48)) as Uint8Array<ArrayBuffer>], { type: "image/png" });
    const before = scripted.seen.length;
    const job = await client.edit({ prompt: "put them together", references: [a, b], quality: "low" });
    expect(job.status).toBe("succeeded");
    expect(job.request.reference_images).toBe(2);
    const sent = scripted.seen.slice(before).find((r) => r.prompt === "put them together");
    expect(sent?.referenceImages?.map((r) => sniffImage(r.bytes)?.width)).toEqual([64, 80]);
  });

  it("events() iterates from the first event to succeeded, and resumes after afterSeq", async () => {
    const client = createClient({ baseUrl: api.url, apiKey: key });
    const job = await client.generate({ prompt: "events please" }, { wait: false });
    const seen: JobEventView[] = [];
    for await (const event of client.events(job.id)) seen.push(event);
    expect(seen[0]?.type).toBe("queued");
    expect(seen.at(-1)?.type).toBe("succeeded");
    const resumed: JobEventView[] = [];
    for await (const event of client.events(job.id, { afterSeq: 2 })) resumed.push(event);
    expect(resumed[0]?.seq).toBe(3);
    expect(resumed.at(-1)?.type).toBe("succeeded");
  });

  it("waitForJob returns the running job when its timeout passes", async () => {
    const client = createClient({ baseUrl: api.url, apiKey: key });
    const job = await client.generate({ prompt: "slow drawing" }, { wait: false });
    const started = Date.now();
    const waited = await client.waitForJob(job.id, { timeoutMs: 400 });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(["queued", "running"]).toContain(waited.status);
    const capped = await client.generate({ prompt: "slow again" }, { wait: 300 });
    expect(["queued", "running"]).toContain(capped.status);
    scripted.release();
    expect((await client.waitForJob(job.id)).status).toBe("succeeded");
    await client.cancelJob(capped.id).catch(() => undefined);
  });

  it("a failed job throws its code with the job id", async () => {
    const client = createClient({ baseUrl: api.url, apiKey: key });
    const error = await failure(client.generate({ prompt: "refuse this" }));
    expect(error.code).toBe("upstream_refused");
    expect(error.jobId).toMatch(/^img_/);
  });

  it("errors are typed: code, status, retryAfterMs, param", async () => {
    const limited = await api.createKey(["generate"], { imagesPerDay: 1 });
    const client = createClient({ baseUrl: api.url, apiKey: limited });
    await client.generate({ prompt: "the only one today" });
    const quota = await failure(client.generate({ prompt: "one more" }));
    expect(quota.code).toBe("quota_exhausted");
    expect(quota.status).toBe(429);
    expect(quota.reason).toBe("images_per_day");
    expect(quota.retryAfterMs).toBeGreaterThan(0);

    const noEdit = await failure(client.edit({ prompt: "x", references: [await testPng(8, 8)] }));
    expect(noEdit.code).toBe("forbidden");

    const bad = await failure(
      createClient({ baseUrl: api.url, apiKey: key }).edit({
        prompt: "x",
        references: [new Uint8Array([1, 2])],
      }),
    );
    expect(bad.code).toBe("invalid_request");
    expect(bad.status).toBe(400);
    expect(bad.param).toBeDefined();

    const wrong = await failure(createClient({ baseUrl: api.url, apiKey: "cimg_wrong" }).listJobs());
    expect(wrong.code).toBe("unauthorized");
    expect(wrong.status).toBe(401);

    const wrongTrpc = await failure(
      createClient({ baseUrl: api.url, apiKey: "cimg_wrong" }).generate({ prompt: "x" }),
    );
    expect(wrongTrpc.code).toBe("unauthorized");

    const missing = await failure(
      createClient({ baseUrl: api.url, apiKey: key }).getJob("img_aaaaaaaaaaaaaaaaaaaaaaaaaa"),
    );
    expect(missing.code).toBe("not_found");

    const down = await failure(createClient({ baseUrl: await closedPortUrl(), apiKey: key }).listJobs());
    expect(down.code).toBe("unreachable");
    expect(down.status).toBe(0);
  });

  it("listJobs, getJob and cancelJob use the key's own jobs", async () => {
    const own = await api.createKey();
    const client = createClient({ baseUrl: api.url, apiKey: own });
    const job = await client.generate({ prompt: "listed" });
    const list = await client.listJobs({ limit: 5 });
    expect(list.data.map((item) => item.id)).toEqual([job.id]);
    expect((await client.getJob(job.id)).request.prompt).toBe("listed");
    const canceled = await client.cancelJob(job.id).catch((e: unknown) => e);
    // A finished job cannot be canceled; either way the answer is typed.
    if (canceled instanceof CodexImgClientError) expect(canceled.code).toBe("invalid_request");
    else expect((canceled as { status: string }).status).toBe("succeeded");
  });

  it("the typed tRPC proxy: queries with the key, subscriptions over SSE, admin calls after loginAdmin", async () => {
    const client = createClient({ baseUrl: api.url, apiKey: key });
    const { job } = await client.trpc.images.generate.mutate({ prompt: "through trpc" });
    const types = await new Promise<string[]>((resolve, reject) => {
      const seen: string[] = [];
      const subscription = client.trpc.jobs.events.subscribe(
        { id: String(job.id) },
        {
          onData: (event) => {
            const type = String((event.data as { type: string }).type);
            seen.push(type);
            if (type === "succeeded") {
              subscription.unsubscribe();
              resolve(seen);
            }
          },
          onError: reject,
        },
      );
    });
    expect(types.at(-1)).toBe("succeeded");

    await expect(client.trpc.keys.list.query()).rejects.toMatchObject({ data: { code: "unauthorized" } });
    const session = await loginAdmin({ baseUrl: api.url, password: ADMIN_PASSWORD });
    const admin = createClient({ baseUrl: api.url, adminSession: session });
    const created = await admin.trpc.keys.create.mutate({ name: "from the client", scopes: ["generate"] });
    expect(created.rawKey).toMatch(/^cimg_/);
    expect((await admin.trpc.keys.list.query()).map((k) => k.name)).toContain("from the client");
    const refused = await failure(loginAdmin({ baseUrl: api.url, password: "wrong password here" }));
    expect(refused.code).toBe("unauthorized");
  });
});
