import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  createDb,
  createUsageCounters,
  dayWindow,
  keyCounterScope,
  minuteWindow,
  monthWindow,
  utcDay,
} from "@codex-img/db";
import { describe, expect, it } from "vitest";
import { useTempDatabase } from "./support/temp-database.js";

const run = promisify(execFile);
const BUN = fileURLToPath(new URL("../../../node_modules/.bin/bun", import.meta.url));
const CHILD = fileURLToPath(new URL("./support/consume-child.ts", import.meta.url));

describe("createUsageCounters", () => {
  const temp = useTempDatabase("codex-img-counters-");

  const input = (amount = 1, limit = 10) => ({
    scope: "key:k:images",
    window: "day:2026-11-22",
    amount,
    limit,
    expiresAt: 1_000,
  });

  it("counts up to the limit and refuses what would pass it, without counting the refusal", async () => {
    const counters = createUsageCounters(temp.database);
    expect(await counters.tryConsume(input(4))).toEqual({ ok: true, count: 4 });
    expect(await counters.tryConsume(input(6))).toEqual({ ok: true, count: 10 });
    expect(await counters.tryConsume(input(1))).toMatchObject({ ok: false, count: 10, limit: 10 });
    expect(await counters.get(input())).toBe(10);
    // A first consumption above the limit is refused too and leaves no row behind.
    expect(await counters.tryConsume({ ...input(11), window: "day:other" })).toMatchObject({
      ok: false,
      count: 0,
    });
    expect(await counters.get({ scope: "key:k:images", window: "day:other" })).toBe(0);
    await expect(counters.tryConsume(input(0))).rejects.toThrow(RangeError);
  });

  it("gives back on release, never below zero", async () => {
    const counters = createUsageCounters(temp.database);
    await counters.tryConsume(input(10));
    await counters.release({ ...input(), amount: 3 });
    expect(await counters.get(input())).toBe(7);
    expect(await counters.tryConsume(input(3))).toEqual({ ok: true, count: 10 });
    await counters.release({ ...input(), amount: 50 });
    expect(await counters.get(input())).toBe(0);
    await counters.release({ scope: "none", window: "none", amount: 1 });
  });

  it("tryConsumeAll takes all or nothing", async () => {
    const counters = createUsageCounters(temp.database);
    const rpm = { scope: "key:k:requests", window: "minute:1", amount: 1, limit: 5, expiresAt: 1 };
    const day = { scope: "key:k:images", window: "day:1", amount: 2, limit: 3, expiresAt: 1 };
    expect(await counters.tryConsumeAll([rpm, day])).toMatchObject({ ok: true, count: 2 });
    const refused = await counters.tryConsumeAll([rpm, day]);
    expect(refused).toMatchObject({ ok: false, count: 2, limit: 3, failed: { scope: "key:k:images" } });
    expect(await counters.get(rpm)).toBe(1);
    expect(await counters.get(day)).toBe(2);
  });

  it("grants exactly 10 of 100 concurrent requests, on one client and on two clients of the same file", async () => {
    const counters = createUsageCounters(temp.database);
    const one = await Promise.all(Array.from({ length: 100 }, () => counters.tryConsume(input(1, 10))));
    expect(one.filter((r) => r.ok)).toHaveLength(10);

    const second = await createDb({ url: temp.folder.url, migrate: false });
    try {
      const a = createUsageCounters(temp.database);
      const b = createUsageCounters(second);
      const scope = { ...input(1, 10), window: "day:two-clients" };
      const both = await Promise.all(
        Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? a : b).tryConsume(scope)),
      );
      expect(both.filter((r) => r.ok)).toHaveLength(10);
      expect(await a.get(scope)).toBe(10);
    } finally {
      second.close();
    }
  });

  it("grants exactly 10 of 100 across three processes racing on the same file", async () => {
    const startAt = Date.now() + 1500;
    const outputs = await Promise.all(
      [34, 33, 33].map((count) =>
        run(BUN, [
          "--conditions=source",
          CHILD,
          temp.folder.url,
          "race",
          String(count),
          "10",
          String(startAt),
        ]),
      ),
    );
    const granted = outputs.map((o) => Number(o.stdout.trim()));
    expect(granted.reduce((a, b) => a + b, 0)).toBe(10);
    expect(await createUsageCounters(temp.database).get({ scope: "race", window: "w" })).toBe(10);
  });

  it("sweeps rows whose window has expired", async () => {
    const counters = createUsageCounters(temp.database);
    await counters.tryConsume({ ...input(), window: "old", expiresAt: 100 });
    await counters.tryConsume({ ...input(), window: "new", expiresAt: 200 });
    expect(await counters.sweepExpired(150)).toBe(1);
    expect(await counters.get({ scope: input().scope, window: "old" })).toBe(0);
    expect(await counters.get({ scope: input().scope, window: "new" })).toBe(1);
  });
});

describe("usage windows", () => {
  it("name UTC minute, day and month windows with their bounds", () => {
    const now = Date.UTC(2026, 11, 31, 23, 59, 30);
    expect(minuteWindow(now)).toMatchObject({
      window: `minute:${Math.floor(now / 60_000)}`,
      startsAt: Date.UTC(2026, 11, 31, 23, 59),
      endsAt: Date.UTC(2027, 0, 1),
    });
    expect(dayWindow(now)).toMatchObject({
      window: "day:2026-12-31",
      startsAt: Date.UTC(2026, 11, 31),
      endsAt: Date.UTC(2027, 0, 1),
    });
    expect(monthWindow(now)).toMatchObject({
      window: "month:2026-12",
      startsAt: Date.UTC(2026, 11, 1),
      endsAt: Date.UTC(2027, 0, 1),
    });
    for (const w of [minuteWindow(now), dayWindow(now), monthWindow(now)])
      expect(w.expiresAt).toBeGreaterThan(w.endsAt);
    expect(utcDay(now)).toBe("2026-12-31");
    expect(keyCounterScope("key_a", "images")).toBe("key:key_a:images");
  });
});
