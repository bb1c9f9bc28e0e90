import { createDb, createSettingsStore, DEFAULT_SETTINGS, settings } from "@codex-img/db";
import { describe, expect, it } from "vitest";
import { useTempDatabase } from "./support/temp-database.js";

describe("createSettingsStore", () => {
  const temp = useTempDatabase("codex-img-settings-");

  it("returns documented defaults when nothing is stored", async () => {
    const store = createSettingsStore(temp.database);
    expect(await store.getAll()).toEqual({
      dispatchMode: "quota-aware",
      retentionDays: 7,
      cleanupIntervalHours: 6,
      usageWall: { limit: 320, windowHours: 48, warnPercent: 70, dangerPercent: 90 },
    });
    const wall = await store.get("usageWall");
    wall.limit = 1;
    expect(DEFAULT_SETTINGS.usageWall.limit).toBe(320);
  });

  it("sets, reads back across connections, overwrites and resets", async () => {
    const store = createSettingsStore(temp.database, { clock: { now: () => 5 } });
    await store.set("dispatchMode", "round-robin");
    await store.set("retentionDays", 30);
    await store.set("usageWall", { limit: 500, windowHours: 24, warnPercent: 60, dangerPercent: 95 });
    await store.set("retentionDays", 14);
    const other = await createDb({ url: temp.folder.url, migrate: false });
    try {
      expect(await createSettingsStore(other).getAll()).toEqual({
        dispatchMode: "round-robin",
        retentionDays: 14,
        cleanupIntervalHours: 6,
        usageWall: { limit: 500, windowHours: 24, warnPercent: 60, dangerPercent: 95 },
      });
    } finally {
      other.close();
    }
    await store.reset("retentionDays");
    expect(await store.get("retentionDays")).toBe(7);
  });

  it("refuses unknown names and out-of-range values", async () => {
    const store = createSettingsStore(temp.database);
    const bad: [string, unknown][] = [
      ["dispatchMode", "fastest"],
      ["retentionDays", 0],
      ["retentionDays", 1.5],
      ["cleanupIntervalHours", "6"],
      ["usageWall", { limit: 320, warnPercent: 95, dangerPercent: 90 }],
      ["usageWall", null],
      ["nope", 1],
    ];
    for (const [name, value] of bad) {
      await expect(store.set(name as "retentionDays", value as number)).rejects.toMatchObject({
        code: "invalid_request",
        details: { param: name },
      });
    }
    expect(await store.get("retentionDays")).toBe(7);
  });

  it("falls back to the default when a stored value no longer parses", async () => {
    await temp.database.db.insert(settings).values({ name: "retentionDays", value: "forever", updatedAt: 1 });
    await temp.database.db.insert(settings).values({ name: "legacyThing", value: 1, updatedAt: 1 });
    const store = createSettingsStore(temp.database);
    expect(await store.get("retentionDays")).toBe(7);
    expect(await store.getAll()).toEqual(DEFAULT_SETTINGS);
  });
});
