/**
 * Run by usage-counters.test.ts as a separate process (Bun, TypeScript source): waits for a start time so
 * that several processes contend at once, fires `count` concurrent tryConsume calls and prints how many
 * were granted.  Usage: bun consume-child.ts <url> <scope> <count> <limit> <startAtMs>
 */
import { createDb, createUsageCounters } from "../../src/index.js";

const [url = "", scope = "", count = "0", limit = "0", startAt = "0"] = process.argv.slice(2);
const database = await createDb({ url, migrate: false });
const counters = createUsageCounters(database);
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
const results = await Promise.all(
  Array.from({ length: Number(count) }, () =>
    counters.tryConsume({
      scope,
      window: "w",
      amount: 1,
      limit: Number(limit),
      expiresAt: Date.now() + 60_000,
    }),
  ),
);
database.close();
process.stdout.write(`${results.filter((r) => r.ok).length}\n`);
