import { backoffDelayMs } from "@codex-img/core";
import { describe, expect, it } from "vitest";

describe("backoffDelayMs", () => {
  it("grows by factor from baseMs and stops at maxMs", () => {
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(n))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffDelayMs(20)).toBe(60_000);
    expect(backoffDelayMs(3, { baseMs: 500, factor: 3, maxMs: 4000 })).toBe(4000);
    expect(backoffDelayMs(0)).toBe(1000);
  });

  it("spreads the delay over its upper half with jitter", () => {
    expect(backoffDelayMs(2, { jitter: () => 0 })).toBe(1000);
    expect(backoffDelayMs(2, { jitter: () => 0.5 })).toBe(1500);
    expect(backoffDelayMs(2, { jitter: () => 0.999999 })).toBe(2000);
  });
});
