import { createJob, type StoredImageRequest } from "@codex-img/core";
import { storedImageRequest } from "@codex-img/core/testing";
import { createDb, createLibsqlJobStore } from "@codex-img/db";
import { afterEach, describe, expect, it } from "vitest";
import { type BunChild, spawnBun } from "./support/spawn-bun.js";
import { createTempFolder } from "./support/temp-database.js";

const REQUEST: StoredImageRequest = storedImageRequest({ prompt: "race" });
const JOBS = 200;

describe("two processes claiming from one database file", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("never run one job twice, and no busy error escapes", { timeout: 60_000 }, async () => {
    const folder = await createTempFolder("codex-img-race-");
    cleanups.push(() => folder.remove());
    const database = await createDb({ url: folder.url });
    cleanups.push(() => database.close());
    const store = createLibsqlJobStore(database);
    const now = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      const job = createJob({
        request: REQUEST,
        requestHash: "h",
        now,
        maxAttempts: 3,
        attemptDeadlineMs: 60_000,
      });
      await store.insert(job);
      ids.push(job.id);
    }

    const children: BunChild[] = ["alpha", "beta"].map((worker) =>
      spawnBun("claim-child.ts", [folder.url, worker]),
    );
    cleanups.push(() => {
      for (const child of children) if (child.process.exitCode === null) child.process.kill("SIGKILL");
    });
    await Promise.all(children.map((child) => child.line((l) => l === "ready")));
    for (const child of children) child.process.stdin.end("go\n");
    const reports = await Promise.all(
      children.map(async (child) => {
        const line = await child.line((l) => l.startsWith("{"), 50_000);
        return JSON.parse(line) as { workerId: string; claimed: string[]; errors: string[] };
      }),
    );
    const exits = await Promise.all(children.map((child) => child.exited));
    expect(exits.map((e) => e.code)).toEqual([0, 0]);

    for (const report of reports) expect(report.errors).toEqual([]);
    const [alpha, beta] = reports.map((r) => new Set(r.claimed));
    // Both really raced: each won a share of the queue.
    expect(alpha?.size).toBeGreaterThan(0);
    expect(beta?.size).toBeGreaterThan(0);
    expect([...(alpha ?? [])].filter((id) => beta?.has(id))).toEqual([]);
    expect((alpha?.size ?? 0) + (beta?.size ?? 0)).toBe(JOBS);

    for (const id of ids) {
      const job = await store.get(id);
      expect(job?.state).toBe("succeeded");
      expect(job?.attempts).toHaveLength(1);
      const owner = alpha?.has(id) ? "alpha" : "beta";
      expect(job?.attempts[0]?.workerId).toBe(owner);
      const events = await store.readEvents(id);
      expect(events.map((e) => e.type)).toEqual(["queued", "started", "progress", "succeeded"]);
      expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    }
    expect(await store.countActive()).toBe(0);
  });
});
