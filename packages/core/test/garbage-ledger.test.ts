import { createGarbageLedger } from "@codex-img/core";
import { describe, expect, it } from "vitest";

describe("createGarbageLedger: one collection per threshold of garbage, all sources together", () => {
  it("collects when the garbage noted by every source together reaches the threshold, then starts over", () => {
    let collections = 0;
    const ledger = createGarbageLedger({ everyBytes: 100, collect: () => collections++ });
    // [source, bytes noted, collections so far]
    const steps: Array<[string, number, number]> = [
      ["door", 60, 0],
      // Neither source alone has reached the threshold: together they have.
      ["png check", 40, 1],
      ["door", 99, 1],
      ["body lanes", 1, 2],
      // A burst past the threshold is one collection, not one per threshold crossed.
      ["door", 1000, 3],
      ["png check", 1, 3],
    ];
    for (const [source, bytes, expected] of steps) {
      ledger.note(bytes);
      expect({ source, collections }).toEqual({ source, collections: expected });
    }
  });
});
