import type { QuotaSnapshot } from "@codex-img/core";
import { accountQuota, createAccountUsage, createDb } from "@codex-img/db";
import { describe, expect, it } from "vitest";
import { useTempDatabase } from "./support/temp-database.js";

const HOUR = 3_600_000;

describe("createAccountUsage", () => {
  const temp = useTempDatabase("codex-img-usage-");

  it("keeps the newest quota snapshot per account, whole, across connections", async () => {
    const usage = createAccountUsage(temp.database);
    const newer: QuotaSnapshot = {
      observedAt: 2000,
      primary: { usedPercent: 42.6, windowMinutes: 300, resetsAt: 9000 },
      secondary: { usedPercent: 10, windowMinutes: 10080 },
      planType: "plus",
      credits: { hasCredits: false },
    };
    await usage.saveQuotaSnapshot("alice", newer);
    await usage.saveQuotaSnapshot("alice", { observedAt: 1000, primary: { usedPercent: 1 } });
    await usage.saveQuotaSnapshot("bob", { observedAt: 5 });
    const other = await createDb({ url: temp.folder.url, migrate: false });
    try {
      const fresh = createAccountUsage(other);
      expect(await fresh.loadQuotaSnapshot("alice")).toEqual(newer);
      expect(await fresh.loadQuotaSnapshot("nobody")).toBeUndefined();
      expect(await fresh.loadQuotaSnapshots()).toEqual({ alice: newer, bob: { observedAt: 5 } });
    } finally {
      other.close();
    }
    const [row] = await temp.database.db.select().from(accountQuota).limit(1);
    expect(row).toMatchObject({
      label: "alice",
      primaryUsedPercent: 43,
      primaryResetsAt: 9000,
      planType: "plus",
    });
    await usage.saveQuotaSnapshot("alice", { observedAt: 3000 });
    expect(await usage.loadQuotaSnapshot("alice")).toEqual({ observedAt: 3000 });
  });

  it("adds job outcomes to per-day counters and reads them per account, per key and per day", async () => {
    const usage = createAccountUsage(temp.database);
    const outcomes = [
      { day: "2026-11-20", keyId: "k1", account: "alice", succeeded: true, images: 2 },
      { day: "2026-11-20", keyId: "k1", account: "alice", succeeded: false, images: 0 },
      { day: "2026-11-21", keyId: "k2", account: "alice", succeeded: true, images: 1 },
      { day: "2026-11-22", keyId: "k1", account: "bob", succeeded: true, images: 4 },
      { day: "2026-11-22", succeeded: true, images: 1 },
      { day: "2026-10-01", keyId: "k1", account: "bob", succeeded: true, images: 100 },
    ];
    await Promise.all(outcomes.map((o) => usage.recordJobOutcome(o)));
    const range = { fromDay: "2026-11-16", toDay: "2026-11-22" };
    expect(await usage.usageByAccount(range)).toEqual({
      alice: { requests: 3, succeeded: 2, failed: 1, images: 3 },
      bob: { requests: 1, succeeded: 1, failed: 0, images: 4 },
      "": { requests: 1, succeeded: 1, failed: 0, images: 1 },
    });
    expect(await usage.usageByKey(range)).toEqual({
      k1: { requests: 3, succeeded: 2, failed: 1, images: 6 },
      k2: { requests: 1, succeeded: 1, failed: 0, images: 1 },
      "": { requests: 1, succeeded: 1, failed: 0, images: 1 },
    });
    const days = await usage.usageByDay({ ...range, account: "alice" });
    expect(days.map((d) => d.day)).toEqual([
      "2026-11-16",
      "2026-11-17",
      "2026-11-18",
      "2026-11-19",
      "2026-11-20",
      "2026-11-21",
      "2026-11-22",
    ]);
    expect(days[4]).toEqual({ day: "2026-11-20", requests: 2, succeeded: 1, failed: 1, images: 2 });
    expect(days[6]).toEqual({ day: "2026-11-22", requests: 0, succeeded: 0, failed: 0, images: 0 });
    expect((await usage.usageByDay({ ...range, keyId: "k1" })).at(-1)?.images).toBe(4);
  });

  it("counts each account's finished jobs and images in a rolling window from the history", async () => {
    const now = Date.UTC(2026, 10, 22, 12);
    const job = (
      id: string,
      state: string,
      account: string | null,
      finishedAgoH: number,
      images: number,
      createdBeforeH = 0.1,
    ) => ({
      id,
      state,
      account,
      images,
      createdAt: now - (finishedAgoH + createdBeforeH) * HOUR,
      finishedAt: now - finishedAgoH * HOUR,
    });
    const rows = [
      job("j1", "succeeded", "alice", 1, 2),
      job("j2", "expired", "alice", 30, 1),
      job("j3", "failed", "alice", 2, 0),
      job("j4", "succeeded", "bob", 4, 3),
      // Created before the window, finished inside it: counted.
      job("j5", "succeeded", "bob", 47, 1, 5),
      job("j6", "succeeded", "bob", 49, 5),
      job("j7", "succeeded", "alice,bob", 1, 3),
      job("j8", "running", "alice", 0, 0),
      job("j9", "succeeded", null, 1, 1),
    ];
    for (const r of rows) {
      await temp.database.client.execute({
        sql: `INSERT INTO jobs (id, state, request_hash, request, prompt, account, max_attempts, attempt_timeout_ms,
                run_after, images, image_count, created_at, updated_at, finished_at)
              VALUES (?, ?, 'h', '{}', 'p', ?, 1, 1000, 0, '[]', ?, ?, ?, ?)`,
        args: [
          r.id,
          r.state,
          r.account,
          r.images,
          r.createdAt,
          r.finishedAt,
          r.state === "running" ? null : r.finishedAt,
        ],
      });
    }
    const usage = createAccountUsage(temp.database);
    expect(await usage.accountActivity({ since: now - 48 * HOUR, until: now + 1 })).toEqual({
      alice: { images: 2 + 1 + 2, succeeded: 3, failed: 1 },
      bob: { images: 3 + 1 + 1, succeeded: 3, failed: 0 },
    });
    expect(await usage.accountActivity({ since: now - 5 * HOUR })).toEqual({
      alice: { images: 4, succeeded: 2, failed: 1 },
      bob: { images: 4, succeeded: 2, failed: 0 },
    });
  });
});
