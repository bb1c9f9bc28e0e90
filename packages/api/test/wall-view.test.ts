import { describe, expect, it } from "vitest";
import { wallView } from "../src/services/wall-view.js";

const HOUR = 3_600_000;
const wall = { limit: 320, windowHours: 48, warnPercent: 70, dangerPercent: 90 };
const now = Date.UTC(2026, 10, 22);

describe("the usage wall's forecast on a rolling window", () => {
  it("one image a day never reaches 320 in 48 h: the window settles at 2", () => {
    expect(wallView(1, 1, wall, now)).toMatchObject({
      used: 1,
      percent: 0.3125,
      level: "ok",
      settlesAt: 2,
      forecastAt: null,
    });
  });

  it("a rate whose window stays under the wall is never forecast to reach it, however full the window is now", () => {
    // 2/h settles at 96: the 240 now in the window drain away.
    expect(wallView(240, 48, wall, now)).toMatchObject({ level: "warn", settlesAt: 96, forecastAt: null });
    // 300 used and nothing lately: danger now, but no forecast.
    expect(wallView(300, 0, wall, now)).toMatchObject({ level: "danger", settlesAt: 0, forecastAt: null });
  });

  it("a rate that settles above the wall reaches it when new images outrun the ones leaving", () => {
    // 10/h settles at 480. 160 in the window leave at 160/48 per hour: the count grows 10 - 10/3 = 20/3 per
    // hour, so the 160 left take 24 h.
    expect(wallView(160, 240, wall, now)).toMatchObject({ settlesAt: 480, forecastAt: now + 24 * HOUR });
    // From an empty window at exactly the wall's rate (320/48 h): reached at the end of one window.
    expect(wallView(0, 160, wall, now)).toMatchObject({ settlesAt: 320, forecastAt: now + 48 * HOUR });
  });

  it("a reached wall is danger at 100% with no forecast", () => {
    expect(wallView(320, 24, wall, now)).toMatchObject({ percent: 100, level: "danger", forecastAt: null });
    expect(wallView(5, 0, { ...wall, limit: 0 }, now)).toMatchObject({ percent: 100, forecastAt: null });
  });
});
