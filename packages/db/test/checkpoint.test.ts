import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { spawnBun } from "./support/spawn-bun.js";

// The server checkpoints from a worker thread so the log's fsyncs never hold its event loop
// (docs/database.md). Run under Bun, as the server runs.
describe("background checkpoints", () => {
  it("copy committed rows into the database file without any commit checkpointing", async () => {
    const dir = await mkdtemp(join(tmpdir(), "codex-img-checkpoint-"));
    try {
      const child = spawnBun("checkpoint-child.ts", [`file:${join(dir, "codex-img.db")}`]);
      const line = await child.line((l) => l.startsWith("{"), 30_000);
      const { afterCommits, afterWait, fallbacks } = JSON.parse(line) as {
        afterCommits: number;
        afterWait: number;
        fallbacks: string[];
      };
      expect(fallbacks).toEqual([]);
      // 2 MB of rows reached the file from the log while nothing else wrote.
      expect(afterWait - afterCommits).toBeGreaterThanOrEqual(256 * 8192);
      expect((await child.exited).code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
