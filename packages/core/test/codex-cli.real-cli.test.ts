import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CodexImgError, createCodexCliBackend } from "@codex-img/core";
import {
  type CodexHomeFixture,
  createCodexHome,
  FAKE_CA_CERT_PATH,
  type FakeCodexBackend,
  startFakeCodexBackend,
  testPng,
} from "@codex-img/core/testing";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

/**
 * The official `@openai/codex` 0.169.0 driven through the codex-cli backend against the loopback fake
 * over TLS: proves that the fake speaks what the real CLI needs and that the backend reads what the
 * real CLI writes.
 */
const REAL_CODEX_PATH = createRequire(import.meta.url).resolve("@openai/codex/bin/codex.js");

let fake: FakeCodexBackend;
let fixture: CodexHomeFixture;
let workRoot: string;

beforeAll(async () => {
  fake = await startFakeCodexBackend({ tls: true });
  workRoot = await mkdtemp(join(tmpdir(), "codex-cli-real-"));
});
afterAll(async () => {
  await fake?.close();
  await rm(workRoot, { recursive: true, force: true });
});
beforeEach(async () => {
  fixture = await createCodexHome({ plan: "plus" });
  fake.requests.length = 0;
});
afterEach(async () => {
  await fixture.cleanup();
  // The fake holds every request to the golden record: the real CLI must still send exactly that.
  expect(fake.mismatches).toEqual([]);
});

function realBackend(extra: { ephemeral?: boolean } = {}): ReturnType<typeof createCodexCliBackend> {
  return createCodexCliBackend({
    ...extra,
    codexPath: REAL_CODEX_PATH,
    workRoot,
    timeoutMs: 60_000,
    killGraceMs: 2_000,
    caCertificatePath: FAKE_CA_CERT_PATH,
    // The conditions the golden record was captured in: reasoning effort low, an xterm terminal.
    config: {
      chatgpt_base_url: fake.chatgptBaseUrl,
      openai_base_url: fake.baseUrl,
      model_reasoning_effort: "low",
    },
    parentEnv: { ...process.env, TERM: "xterm" },
    envAllowList: ["TERM"],
  });
}

async function sessionFiles(home: string): Promise<string[]> {
  const files = await readdir(join(home, "sessions"), { recursive: true }).catch(() => [] as string[]);
  return files.map(String).filter((f) => f.endsWith(".jsonl"));
}

describe("codex-cli backend with the real codex 0.169.0", () => {
  it("answers a question about images with codex exec -i … --json in the read-only sandbox", async () => {
    const result = await realBackend().describe(
      {
        prompt: "What do you see? $imagegen a cat",
        images: [{ bytes: await testPng(20, 10) }, { bytes: await testPng(12, 12) }],
      },
      { account: { label: "real", codexHome: fixture.home } },
    );
    // The `$skill` in the question is defused, so the CLI offered no image tool and the answer is text.
    expect(result.text).toMatch(
      /^Fake CLI vision answer: I see 2 image\(s\)\. You asked: What do you see\? /,
    );
    expect(result).toMatchObject({ backend: "codex-cli", route: "cli" });
    expect(result.upstreamIds.threadId).toMatch(/^[0-9a-f-]{36}$/);
    expect(fake.requests.some((r) => r.url.includes("/images/"))).toBe(false);
    const turn = fake.requests.find((r) => r.url === "/backend-api/codex/responses");
    expect(turn?.headers.originator).toBe("codex_exec");
    expect(String(turn?.headers["x-codex-turn-metadata"])).toContain('"sandbox_mode":"read-only"');
  });

  it("generates an image", async () => {
    const bytes = await testPng(40, 30);
    fake.script.images.push({ kind: "image", bytes });
    const result = await realBackend().generate(
      { prompt: "a red fox in the snow" },
      { account: { label: "real", codexHome: fixture.home } },
    );
    expect(result.images).toHaveLength(1);
    expect(result.images[0]).toMatchObject({ format: "png", width: 40, height: 30 });
    expect(Buffer.from(result.images[0]?.bytes ?? [])).toEqual(Buffer.from(bytes));
    expect(result.upstreamIds.threadId).toMatch(/^[0-9a-f-]{36}$/);

    const image = fake.requests.find((r) => r.url.endsWith("/images/generations"));
    expect(image?.headers).toMatchObject({
      originator: "codex_exec",
      version: "0.169.0",
      "chatgpt-account-id": fixture.accountId,
    });
    expect(image?.headers["x-codex-image-turn-id"]).toBeTruthy();
    expect(image?.json).toMatchObject({
      model: "gpt-image-2",
      size: "auto",
      quality: "auto",
      background: "opaque",
    });
    expect((image?.json as { prompt?: string } | undefined)?.prompt).toContain("a red fox in the snow");
    // The CLI's own turns went through fakeCliRoutes: first the tool call, then the follow-up.
    const turns = fake.requests.filter((r) => r.url === "/backend-api/codex/responses");
    expect(turns.length).toBe(2);
    expect(turns[0]?.contentEncoding).toBe("zstd");
    expect(await sessionFiles(fixture.home)).toEqual([]);
    expect(await readdir(join(fixture.home, "generated_images")).catch(() => [])).toEqual([]);
  });

  it("edits with a reference image passed by -i", async () => {
    const reference = await testPng(16, 16);
    const result = await realBackend().generate(
      { prompt: "make the square blue", referenceImages: [{ bytes: reference }] },
      { account: { label: "real", codexHome: fixture.home } },
    );
    expect(result.images).toHaveLength(1);
    const edit = fake.requests.find((r) => r.url.endsWith("/images/edits"));
    const images = (edit?.json as { images?: Array<{ image_url: string }> } | undefined)?.images ?? [];
    expect(images.map((i) => i.image_url)).toEqual([
      `data:image/png;base64,${Buffer.from(reference).toString("base64")}`,
    ]);
  });

  it("generates with --ephemeral: no rollout written, the image read from generated_images", async () => {
    const result = await realBackend({ ephemeral: true }).generate(
      { prompt: "a lighthouse" },
      { account: { label: "real", codexHome: fixture.home } },
    );
    expect(result.images).toHaveLength(1);
    expect(await readdir(join(fixture.home, "sessions")).catch(() => [])).toEqual([]);
  });

  it("reports quota_exhausted with the reset time when the image route answers 429 (the CLI exits 0)", async () => {
    const resetsAt = Math.floor(Date.now() / 1000) + 13_872;
    fake.script.images.push({ kind: "usage_limit", resetsAt });
    const error = await realBackend()
      .generate({ prompt: "a fox" }, { account: { label: "real", codexHome: fixture.home } })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(CodexImgError);
    expect(error).toMatchObject({
      code: "quota_exhausted",
      details: {
        resetsAt: resetsAt * 1000,
        upstreamStatus: 429,
        upstreamCode: "usage_limit_reached",
        exitCode: 0,
      },
    });
    expect(await sessionFiles(fixture.home)).toEqual([]);
  });
});
