import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { testImage } from "@codex-img/core/testing";
import { type ServerProcess, startServerProcess } from "@codex-img/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKeys } from "./support/hardening.js";

/**
 * References are fully decoded at the door of the real server process: a header-only, truncated or
 * corrupt image is refused 400 on every route family before a job exists and before the key is charged.
 */
describe("reference images at the door", () => {
  let dir: string;
  let server: ServerProcess | undefined;
  let url = "";
  let png: Uint8Array;
  let broken: Array<[string, Uint8Array]>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "codex-img-refs-"));
    server = await startServerProcess({
      args: ["--port", "0", "--data-dir", join(dir, "data"), "--backend", "demo"],
      env: { HOME: dir },
      cwd: dir,
    });
    url = server.url;
    png = await testImage("png", 256, 256, 11);
    const badCrc = png.slice();
    new DataView(badCrc.buffer).setUint32(16, 100_000);
    new DataView(badCrc.buffer).setUint32(20, 100_000);
    broken = [
      ["a 40-byte PNG", png.subarray(0, 40)],
      ["a truncated PNG", png.subarray(0, Math.floor(png.length * 0.6))],
      ["a bad-CRC PNG claiming 100000x100000", badCrc],
    ];
  }, 40_000);

  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64");
  const post = (key: string, path: string, body: unknown): Promise<Response> =>
    fetch(`${url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  it("refuses broken references on REST, OpenAI and tRPC without creating a job or charging the key", async () => {
    const [key = ""] = await createKeys(join(dir, "data"), [
      { name: "one-a-day", scopes: ["generate", "edit"], limits: { imagesPerDay: 1 } },
    ]);
    for (const [what, bytes] of broken) {
      const rest = await post(key, "/v1/images/jobs", { prompt: "x", reference_images_base64: [b64(bytes)] });
      expect([what, rest.status]).toEqual([what, 400]);
      expect(((await rest.json()) as { error: { code: string } }).error.code).toBe("invalid_request");

      const openai = await post(key, "/v1/images/edits", {
        prompt: "x",
        images: [{ image_url: `data:image/png;base64,${b64(bytes)}` }],
      });
      expect([what, openai.status]).toEqual([what, 400]);
      expect(((await openai.json()) as { error: { param: string } }).error.param).toBe("image");

      const trpc = await post(key, "/trpc/images.generate", {
        prompt: "x",
        references: [{ dataUrl: `data:image/png;base64,${b64(bytes)}` }],
      });
      expect([what, trpc.status]).toEqual([what, 400]);
    }
    const jobs = await fetch(`${url}/v1/jobs`, { headers: { authorization: `Bearer ${key}` } });
    expect(((await jobs.json()) as { data: unknown[] }).data).toEqual([]);
    // The day's one image is still there: nothing was charged.
    const ok = await post(key, "/v1/images/jobs", { prompt: "x", reference_images_base64: [b64(png)] });
    expect(ok.status).toBe(202);
  });
});
