import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKeys, type HardeningServer, startHardeningServer, submitJob } from "./support/hardening.js";

/** Per-key quotas and rate limits hold exactly when 200 requests arrive at once at a real server process. */
describe("hardening: limits under concurrency", () => {
  let dir: string;
  let server: HardeningServer | undefined;
  let daily = "";
  let perMinute = "";

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "codex-img-limits-"));
    const dataDir = join(dir, "data");
    [daily = "", perMinute = ""] = await createKeys(dataDir, [
      { name: "daily", scopes: ["generate", "jobs:read"], limits: { imagesPerDay: 25 } },
      { name: "per-minute", scopes: ["generate", "jobs:read"], limits: { requestsPerMinute: 40 } },
    ]);
    server = await startHardeningServer({
      dataDir,
      cwd: dir,
      homes: {},
      args: ["--backend", "demo", "--queue-max-size", "1000", "--worker-concurrency", "4"],
    });
  }, 60_000);

  afterAll(async () => {
    await server?.kill();
    await rm(dir, { recursive: true, force: true });
  });

  const burst = async (key: string): Promise<Map<number, number>> => {
    const url = server?.url ?? "";
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) => submitJob(url, key, { prompt: `burst ${i}` })),
    );
    const byStatus = new Map<number, number>();
    for (const reply of replies) {
      byStatus.set(reply.status, (byStatus.get(reply.status) ?? 0) + 1);
      if (reply.status === 429) expect(reply.body).toMatchObject({ error: expect.anything() });
    }
    return byStatus;
  };

  it("accepts exactly imagesPerDay images and creates no job for the refused requests", async () => {
    const byStatus = await burst(daily);
    expect(Object.fromEntries(byStatus)).toEqual({ 202: 25, 429: 175 });
    const list = await fetch(`${server?.url}/v1/jobs?limit=100`, {
      headers: { authorization: `Bearer ${daily}` },
    });
    const body = (await list.json()) as { data: unknown[]; has_more: boolean };
    expect(body.data).toHaveLength(25);
    expect(body.has_more).toBe(false);
  }, 30_000);

  it("accepts exactly requestsPerMinute requests", async () => {
    const byStatus = await burst(perMinute);
    expect(Object.fromEntries(byStatus)).toEqual({ 202: 40, 429: 160 });
  }, 30_000);
});
