import { createAuditLog } from "@codex-img/db";
import { describe, expect, it } from "vitest";
import { useTempDatabase } from "./support/temp-database.js";

describe("createAuditLog", () => {
  const temp = useTempDatabase("codex-img-audit-");

  it("records who did what to which target, when and from where", async () => {
    const audit = createAuditLog(temp.database, { clock: { now: () => 1234 } });
    const entry = await audit.record({
      actor: "admin",
      action: "key.create",
      targetType: "key",
      targetId: "key_a",
      details: { name: "ci", scopes: ["generate"] },
      ip: "10.0.0.1",
      userAgent: "Mozilla/5.0",
    });
    expect(entry).toEqual({
      id: expect.any(Number),
      at: 1234,
      actor: "admin",
      action: "key.create",
      targetType: "key",
      targetId: "key_a",
      details: { name: "ci", scopes: ["generate"] },
      ip: "10.0.0.1",
      userAgent: "Mozilla/5.0",
    });
    const minimal = await audit.record({ actor: "system", action: "retention.sweep", at: 99 });
    expect(minimal).toMatchObject({ at: 99, targetType: null, targetId: null, details: null, ip: null });
    expect((await audit.list()).items.map((e) => e.action)).toEqual(["retention.sweep", "key.create"]);
  });

  it("pages newest first with filters, each entry once", async () => {
    const audit = createAuditLog(temp.database);
    for (let i = 0; i < 25; i++) {
      await audit.record({
        actor: "admin",
        action: i % 2 === 0 ? "key.disable" : "settings.update",
        targetType: i % 2 === 0 ? "key" : "setting",
        targetId: i % 2 === 0 ? `key_${i % 3}` : "retentionDays",
        at: 1000 + i,
      });
    }
    const seen: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await audit.list({ limit: 7, ...(cursor ? { cursor } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(7);
      seen.push(...page.items.map((e) => e.at));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => 1024 - i));

    expect((await audit.list({ action: "settings.update" })).items).toHaveLength(12);
    const byTarget = await audit.list({ targetType: "key", targetId: "key_0" });
    expect(byTarget.items.map((e) => e.at)).toEqual([1024, 1018, 1012, 1006, 1000]);
    const range = await audit.list({ since: 1010, until: 1015 });
    expect(range.items.map((e) => e.at)).toEqual([1014, 1013, 1012, 1011, 1010]);
    await expect(audit.list({ cursor: "bogus" })).rejects.toMatchObject({ code: "invalid_request" });
  });

  it("uses an index for every filter", async () => {
    for (const where of ["action = 'x'", "target_type = 'key' AND target_id = 'k'", "at >= 1 AND at < 2"]) {
      const plan = await temp.database.client.execute(
        `EXPLAIN QUERY PLAN SELECT * FROM audit_log WHERE ${where} AND id < 100 ORDER BY id DESC LIMIT 51`,
      );
      const detail = plan.rows.map((r) => String(r.detail)).join("\n");
      expect(detail).toMatch(/USING (INDEX|COVERING INDEX|INTEGER PRIMARY KEY)/);
      expect(detail).not.toMatch(/^SCAN audit_log$/m);
    }
  });
});
