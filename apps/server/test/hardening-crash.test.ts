import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type CodexHomeFixture,
  createCodexHome,
  type FakeCodexBackend,
  startFakeCodexBackend,
} from "@codex-img/core/testing";
import { createDb } from "@codex-img/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createKeys,
  databaseUrl,
  type HardeningServer,
  imageReply,
  type ServerLaunch,
  settleJobs,
  startHardeningServer,
  submitJob,
} from "./support/hardening.js";

/**
 * SIGKILL the server while jobs run and requests arrive, restart it on the same data folder, and check
 * that nothing was lost or stuck, no image file is left without a job after the next sweep, and the
 * key's daily image quota counted each accepted job exactly once.
 */
describe("hardening: crash safety", () => {
  let dir: string;
  let dataDir: string;
  let upstream: FakeCodexBackend;
  let login: CodexHomeFixture;
  let launch: ServerLaunch;
  const running: HardeningServer[] = [];
  let key = "";

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "codex-img-crash-"));
    dataDir = join(dir, "data");
    upstream = await startFakeCodexBackend({
      defaults: { images: { kind: "custom", handle: imageReply(1500) } },
    });
    login = await createCodexHome({ email: "crash@example.com" });
    [key = ""] = await createKeys(dataDir, [
      { name: "crash", scopes: ["generate", "jobs:read"], limits: { imagesPerDay: 1000 } },
    ]);
    launch = {
      dataDir,
      cwd: dir,
      homes: { main: login.home },
      codexBaseUrl: upstream.baseUrl,
      tokenUrl: upstream.tokenUrl,
      args: ["--worker-concurrency", "4", "--queue-max-size", "200", "--queue-lease-seconds", "2"],
    };
  }, 60_000);

  afterAll(async () => {
    for (const server of running) await server.kill();
    await upstream?.close();
    await login?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it("loses nothing, leaves nothing stuck or orphaned, and counts no quota twice", async () => {
    const first = await startHardeningServer(launch);
    running.push(first);
    const accepted: string[] = [];
    let unanswered = 0;
    const submit = async (i: number): Promise<void> => {
      const reply = await submitJob(first.url, key, { prompt: `crash ${i}` }).catch(() => undefined);
      if (reply?.status === 202) accepted.push(String(reply.body.id));
      if (!reply) unanswered += 1;
    };
    await Promise.all(Array.from({ length: 12 }, (_, i) => submit(i)));
    expect(accepted).toHaveLength(12);
    await upstream.waitForCalls(4); // four jobs are mid-generation
    // More requests arrive while the process dies.
    const late = Array.from({ length: 8 }, (_, i) => submit(100 + i));
    await new Promise((resolve) => setTimeout(resolve, 30));
    await first.kill();
    await Promise.all(late);
    const acceptedBeforeKill = [...accepted];

    const second = await startHardeningServer(launch);
    running.push(second);
    // Jobs of the dead process come back after their lease (2 s) and run again here.
    const views = await settleJobs(second.url, key, acceptedBeforeKill, 40_000);
    const outcome = acceptedBeforeKill.map((id) => {
      const view = views.get(id);
      return `${view?.status}${view?.status === "failed" ? ` ${view.error_code} ${view.error}` : ""}`;
    });
    expect(outcome.filter((o) => o !== "succeeded" && !/^failed \S+ \S/.test(o))).toEqual([]);

    // Every job the key owns (including any a late request created before the kill answered) is final.
    const list = (await (
      await fetch(`${second.url}/v1/jobs?limit=100`, { headers: { authorization: `Bearer ${key}` } })
    ).json()) as { data: Array<{ id: string; status: string; image_count: number }> };
    const allIds = list.data.map((job) => job.id);
    expect(allIds).toEqual(expect.arrayContaining(acceptedBeforeKill));
    const all = await settleJobs(second.url, key, allIds, 20_000);
    expect([...all.values()].filter((v) => v.status !== "succeeded" && v.status !== "failed")).toEqual([]);

    // The next retention sweep (it runs at every start) leaves only files some job refers to.
    await second.stop();
    const third = await startHardeningServer(launch);
    running.push(third);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const referenced = new Set<string>();
    for (const view of (await settleJobs(third.url, key, allIds, 5_000)).values()) {
      for (const image of view.images) referenced.add(new URL(image.url).pathname.split("/").pop() ?? "");
    }
    await third.stop();
    const files = (await readdir(join(dataDir, "images"))).filter((name) => !name.startsWith("."));
    expect(files.filter((name) => !referenced.has(name))).toEqual([]);
    expect(referenced.size).toBe([...all.values()].filter((v) => v.status === "succeeded").length);

    // One image per job, counted once: re-running a recovered job does not count it again. A request
    // cut off by the kill may have been counted without getting its job (quota and job are not written
    // in one transaction): at most one image per unanswered request, never more.
    const database = await createDb({ url: databaseUrl(dataDir) });
    try {
      const rows = await database.client.execute(
        `SELECT coalesce(sum(count), 0) AS n FROM usage_counters WHERE scope LIKE 'key:%:images'`,
      );
      const counted = Number(rows.rows[0]?.n);
      expect(counted).toBeGreaterThanOrEqual(allIds.length);
      expect(counted - allIds.length).toBeLessThanOrEqual(unanswered);
    } finally {
      database.close();
    }
  }, 85_000);
});
