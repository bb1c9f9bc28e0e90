import { createGarbageLedger } from "@codex-img/core";
import { describe, expect, it } from "vitest";

describe("createGarbageLedger: one collection per threshold of garbage, all sources together", () => {
  it("collects when the garbage noted by every source together reaches the threshold, then starts over", () => {
    let collections = 0;
    const ledger = createGarbageLedger({ everyBytes: 100, collect: () => collections++ });
    const received = (bytes: number): void => ledger.note(bytes);
    const inflated = (bytes: number): void => ledger.note(bytes);
    received(60);
    expect(collections).toBe(0);
    // Neither source alone has reached the threshold: together they have.
    inflated(40);
    expect(collections).toBe(1);
    received(99);
    expect(collections).toBe(1);
    inflated(1);
    expect(collections).toBe(2);
    // A burst past the threshold is one collection, not one per threshold crossed.
    received(1000);
    expect(collections).toBe(3);
    received(1);
    expect(collections).toBe(3);
  });
});
