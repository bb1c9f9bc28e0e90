/**
 * History benchmark: fills a fresh database file with N jobs (default 1,000,000) and times one filtered
 * page of `queryHistory` per query type, each at random depths through real cursors. Reports median and
 * p95 per type, the ratio to a primary-key lookup measured in the same run, the fill time and the
 * database size per 1,000 jobs. Target: every median under 20 ms at 1,000,000 jobs.
 *
 *   bun run bench:history [--jobs 1000000] [--runs 200] [--limit 50] [--keep]
 *
 * No ANALYZE is run: the plans are those of a fresh server without planner statistics.
 *
 * Data: 90 days of jobs in creation order (as the queue writes them), 50 keys, 5 accounts, prompts of
 * 6-18 words drawn from a skewed word list, states as retention leaves them (succeeded -> expired after 7
 * days, ~6 % failed, ~2 % canceled, a few queued/running in the last minutes), one attempt per started job
 * and a second one for ~8 % (retried). No job_events rows (they are per-job progress, not history).
 */
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createDb, type Database, type HistoryQuery, planHistoryQuery, queryHistory } from "@codex-img/db";

const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "1000000" },
    runs: { type: "string", default: "200" },
    limit: { type: "string", default: "50" },
    keep: { type: "boolean", default: false },
  },
});
const JOBS = Number(values.jobs);
const RUNS = Number(values.runs);
const LIMIT = Number(values.limit);
const TARGET_MEDIAN_MS = 20;

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 22, 12);
const SPAN = 90 * DAY;
const RETENTION = 7 * DAY;
const ACCOUNTS = ["alice", "bob", "carol", "dave", "erin"];
const KEYS = Array.from({ length: 50 }, (_, i) => ({
  id: `key_bench${String(i).padStart(3, "0")}`,
  name: `key ${i}`,
}));
const WORDS = (
  "a the of with in on and portrait landscape city night forest ocean mountain robot cat dog fox owl dragon " +
  "castle street market neon rain snow sunset sunrise desert river bridge tower garden kitchen library " +
  "spaceship planet galaxy nebula astronaut knight wizard samurai pirate detective chef musician dancer " +
  "watercolor oil pencil sketch photo cinematic isometric pixel vector minimalist surreal vintage retro " +
  "futuristic cyberpunk steampunk baroque gothic anime comic poster logo icon sticker banner cover " +
  "golden silver crimson azure emerald violet amber pastel monochrome vibrant soft dramatic moody bright " +
  "lighting shadows reflections fog mist clouds stars moon sun fire ice glass metal wood stone paper " +
  "happy sad calm angry curious sleepy tiny giant ancient modern broken shiny fluffy wet cozy quiet busy " +
  "wide close aerial macro lens bokeh grain texture pattern mosaic collage diorama sculpture origami " +
  "tea coffee bread cake fruit flowers roses tulips lotus bamboo cactus mushroom autumn winter spring summer"
).split(" ");

/** Deterministic, so runs compare. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(42);
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
/** Skewed towards the front of the list, as word use is. */
const pickWord = (): string => WORDS[Math.floor(WORDS.length * random() ** 2.2)] as string;

function prompt(): string {
  const words: string[] = [];
  const count = 6 + Math.floor(random() * 13);
  for (let i = 0; i < count; i++) words.push(pickWord());
  return words.join(" ");
}

function jobState(createdAt: number): "queued" | "running" | "succeeded" | "failed" | "canceled" | "expired" {
  const age = NOW - createdAt;
  if (age < 120_000) return random() < 0.5 ? "queued" : "running";
  const r = random();
  if (r < 0.06) return "failed";
  if (r < 0.08) return "canceled";
  return age > RETENTION ? "expired" : "succeeded";
}

const JOB_COLUMNS = [
  "id",
  "state",
  "key_id",
  "key_name",
  "request_hash",
  "request",
  "prompt",
  "account",
  "backend",
  "max_attempts",
  "attempt_count",
  "attempt_timeout_ms",
  "run_after",
  "images",
  "image_count",
  "error",
  "error_code",
  "created_at",
  "updated_at",
  "started_at",
  "finished_at",
  "expires_at",
];
const ATTEMPT_COLUMNS = [
  "job_id",
  "number",
  "worker_id",
  "account",
  "backend",
  "route",
  "upstream_ids",
  "started_at",
  "finished_at",
  "duration_ms",
  "error",
  "error_code",
];
const ROWS_PER_STATEMENT = 500;
const ROWS_PER_TRANSACTION = 20_000;

async function fill(database: Database): Promise<{ ms: number; attempts: number }> {
  const started = performance.now();
  let attempts = 0;
  const jobSql = (n: number): string =>
    `INSERT INTO jobs (${JOB_COLUMNS.join(", ")}) VALUES ${Array(n)
      .fill(`(${JOB_COLUMNS.map(() => "?").join(", ")})`)
      .join(", ")}`;
  const attemptSql = (n: number): string =>
    `INSERT INTO job_attempts (${ATTEMPT_COLUMNS.join(", ")}) VALUES ${Array(n)
      .fill(`(${ATTEMPT_COLUMNS.map(() => "?").join(", ")})`)
      .join(", ")}`;
  for (let base = 0; base < JOBS; base += ROWS_PER_TRANSACTION) {
    const tx = await database.client.transaction("write");
    const end = Math.min(JOBS, base + ROWS_PER_TRANSACTION);
    for (let chunk = base; chunk < end; chunk += ROWS_PER_STATEMENT) {
      const jobArgs: (string | number | null)[] = [];
      const attemptArgs: (string | number | null)[] = [];
      const chunkEnd = Math.min(end, chunk + ROWS_PER_STATEMENT);
      for (let i = chunk; i < chunkEnd; i++) {
        // Evenly spread over 90 days, oldest first, with a little jitter that keeps the order.
        const createdAt = Math.floor(NOW - SPAN + ((i + random() * 0.9) * SPAN) / JOBS);
        const state = jobState(createdAt);
        const key = pick(KEYS);
        const account = pick(ACCOUNTS);
        const text = prompt();
        const id = `img_${i.toString(36).padStart(26, "0")}`;
        const n = random() < 0.85 ? 1 : 2;
        const startedAt = state === "queued" ? null : createdAt + Math.floor(random() * 2000);
        const finished = state !== "queued" && state !== "running";
        const finishedAt =
          finished && startedAt !== null ? startedAt + 20_000 + Math.floor(random() * 60_000) : null;
        const ok = state === "succeeded" || state === "expired";
        const tries = startedAt === null ? 0 : random() < 0.08 ? 2 : 1;
        const error =
          state === "failed" ? '{"code":"upstream_failed","message":"Upstream answered 502."}' : null;
        const images = ok
          ? JSON.stringify(
              Array.from({ length: n }, (_, k) => ({
                key: `2026/11/${id}-${k}.png`,
                format: "png",
                width: 1024,
                height: 1024,
                bytes: 1_400_000 + k,
              })),
            )
          : "[]";
        jobArgs.push(
          id,
          state,
          key.id,
          key.name,
          id.slice(4).padEnd(64, "0"),
          JSON.stringify({
            prompt: text,
            size: "1024x1024",
            quality: "auto",
            background: "auto",
            outputFormat: "png",
            n,
            model: "gpt-image-2",
            referenceImages: [],
          }),
          text,
          startedAt === null ? null : account,
          startedAt === null ? null : "codex-http",
          3,
          tries,
          360_000,
          createdAt,
          images,
          ok ? n : 0,
          error,
          state === "failed" ? "upstream_failed" : state === "canceled" ? "canceled" : null,
          createdAt,
          finishedAt ?? createdAt,
          startedAt,
          finishedAt,
          ok && finishedAt !== null ? createdAt + RETENTION : null,
        );
        for (let number = 1; number <= tries && startedAt !== null; number++) {
          const last = number === tries;
          const attemptEnd = last ? finishedAt : startedAt + 30_000;
          attemptArgs.push(
            id,
            number,
            "worker-1",
            last ? account : pick(ACCOUNTS),
            "codex-http",
            "native",
            `{"x-codex-imagegen-request-id":"req_${i}_${number}"}`,
            startedAt,
            attemptEnd,
            attemptEnd === null ? null : attemptEnd - startedAt,
            last ? error : '{"code":"upstream_timeout","message":"Upstream went silent."}',
            last ? (state === "failed" ? "upstream_failed" : null) : "upstream_timeout",
          );
          attempts++;
        }
      }
      await tx.execute({ sql: jobSql(chunkEnd - chunk), args: jobArgs });
      const attemptRows = attemptArgs.length / ATTEMPT_COLUMNS.length;
      for (let a = 0; a < attemptRows; a += ROWS_PER_STATEMENT) {
        const rows = Math.min(ROWS_PER_STATEMENT, attemptRows - a);
        await tx.execute({
          sql: attemptSql(rows),
          args: attemptArgs.slice(a * ATTEMPT_COLUMNS.length, (a + rows) * ATTEMPT_COLUMNS.length),
        });
      }
    }
    await tx.commit();
    if (base % 200_000 === 0) process.stderr.write(`  filled ${end.toLocaleString("en")} jobs\n`);
  }
  return { ms: performance.now() - started, attempts };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

interface Stat {
  median: number;
  p95: number;
  ratio: number;
  rows: number;
  strategies?: Record<string, number>;
}

/** Times `fn` RUNS times after a few warm-up calls; returns sorted ms. */
async function time(fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 5; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return samples.sort((a, b) => a - b);
}

const randomTime = (): number => Math.floor(NOW - SPAN + random() * SPAN);
const word = (): string => WORDS[Math.floor(random() * WORDS.length)] as string;

/** Each query type: a random query of that shape. */
const QUERY_TYPES: Record<string, () => HistoryQuery> = {
  none: () => ({}),
  state: () => ({ state: pick(["succeeded", "failed", "canceled", "expired"] as const) }),
  key: () => ({ keyId: pick(KEYS).id }),
  account: () => ({ account: pick(ACCOUNTS) }),
  "time range": () => {
    const since = randomTime();
    return { since, until: since + DAY };
  },
  "prompt text": () => ({ text: random() < 0.5 ? word() : `${word()} ${word()}` }),
  "key+state+range": () => {
    const since = randomTime() - 15 * DAY;
    return {
      keyId: pick(KEYS).id,
      state: pick(["failed", "expired"] as const),
      since,
      until: since + 30 * DAY,
    };
  },
  "account+state": () => ({ account: pick(ACCOUNTS), state: pick(["failed", "canceled"] as const) }),
  "key+text": () => ({ keyId: pick(KEYS).id, text: word() }),
  "account+range+text": () => {
    const since = randomTime() - 7 * DAY;
    return { account: pick(ACCOUNTS), since, until: since + 14 * DAY, text: word() };
  },
};

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "codex-img-bench-history-"));
  const file = join(dir, "history.db");
  const database = await createDb({ url: `file:${file}` });
  try {
    process.stderr.write(`history benchmark: ${JOBS.toLocaleString("en")} jobs in ${file}\n`);
    const filled = await fill(database);
    await database.client.execute("PRAGMA wal_checkpoint(TRUNCATE)");
    const bytes = (await stat(file)).size;

    const ids = await database.client.execute({
      sql: "SELECT id FROM jobs WHERE rowid IN (SELECT abs(random()) % ? + 1 FROM jobs LIMIT 1000)",
      args: [JOBS],
    });
    const idList = ids.rows.map((r) => String(r.id));
    const baseline = await time(() =>
      database.client.execute({ sql: "SELECT * FROM jobs WHERE id = ?", args: [pick(idList)] }),
    );
    const baselineMedian = percentile(baseline, 50);

    const results: Record<string, Stat> = {};
    for (const [name, make] of Object.entries(QUERY_TYPES)) {
      let rows = 0;
      const strategies: Record<string, number> = {};
      const samples: number[] = [];
      for (let i = 0; i < RUNS + 5; i++) {
        // A real cursor at a random depth: the first page below a random instant, then the timed next page.
        const query = make();
        const until = query.until ?? (random() < 0.2 ? undefined : randomTime());
        const first = await queryHistory(database, {
          ...query,
          ...(until === undefined ? {} : { until }),
          limit: LIMIT,
        });
        const next: HistoryQuery = {
          ...query,
          ...(until === undefined ? {} : { until }),
          limit: LIMIT,
          ...(first.nextCursor ? { cursor: first.nextCursor } : {}),
        };
        const plan = await planHistoryQuery(database, next, LIMIT);
        const t0 = performance.now();
        const page = await queryHistory(database, next);
        const ms = performance.now() - t0;
        if (i < 5) continue;
        samples.push(ms);
        rows += page.items.length;
        strategies[plan.strategy] = (strategies[plan.strategy] ?? 0) + 1;
      }
      samples.sort((a, b) => a - b);
      const median = percentile(samples, 50);
      results[name] = {
        median: round(median),
        p95: round(percentile(samples, 95)),
        ratio: round(median / baselineMedian, 1),
        rows: round(rows / RUNS, 1),
        ...(Object.keys(strategies).length > 1 || !strategies.index ? { strategies } : {}),
      };
    }

    const worstMedian = Math.max(...Object.values(results).map((r) => r.median));
    const report = {
      jobs: JOBS,
      attempts: filled.attempts,
      runsPerType: RUNS,
      pageSize: LIMIT,
      fillMs: Math.round(filled.ms),
      fillJobsPerSecond: Math.round(JOBS / (filled.ms / 1000)),
      databaseBytes: bytes,
      bytesPer1000Jobs: Math.round((bytes / JOBS) * 1000),
      baseline: {
        query: "SELECT * FROM jobs WHERE id = ?",
        median: round(baselineMedian, 3),
        p95: round(percentile(baseline, 95), 3),
      },
      queries: results,
      targetMedianMs: TARGET_MEDIAN_MS,
      worstMedianMs: worstMedian,
      ok: worstMedian < TARGET_MEDIAN_MS,
      runtime: process.versions.bun ? `bun ${process.versions.bun}` : `node ${process.version}`,
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);

    const lines = [
      "",
      `fill: ${report.fillMs} ms (${report.fillJobsPerSecond.toLocaleString("en")} jobs/s), ${report.attempts.toLocaleString("en")} attempts`,
      `size: ${(bytes / 1_048_576).toFixed(1)} MiB, ${(report.bytesPer1000Jobs / 1024).toFixed(1)} KiB per 1,000 jobs`,
      `baseline (primary-key lookup): median ${report.baseline.median} ms`,
      "",
      `${"query".padEnd(20)} ${"median".padStart(8)} ${"p95".padStart(8)} ${"x base".padStart(8)} ${"rows".padStart(6)}`,
      ...Object.entries(results).map(
        ([name, r]) =>
          `${name.padEnd(20)} ${r.median.toFixed(2).padStart(8)} ${r.p95.toFixed(2).padStart(8)} ${r.ratio.toFixed(0).padStart(8)} ${r.rows.toFixed(0).padStart(6)}`,
      ),
      "",
      `worst median ${worstMedian} ms (target < ${TARGET_MEDIAN_MS} ms): ${report.ok ? "ok" : "MISSED"}`,
    ];
    process.stderr.write(`${lines.join("\n")}\n`);
    if (!report.ok) process.exitCode = 1;
  } finally {
    database.close();
    if (!values.keep) await rm(dir, { recursive: true, force: true });
    else process.stderr.write(`kept ${file}\n`);
  }
}

function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

await main();
