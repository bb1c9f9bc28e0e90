import type { AccountState, JobState } from "@codex-img/core";
import { withBusyRetry, writeTransactionCount } from "@codex-img/db";
import type { Context } from "hono";
import { routePath } from "hono/route";
import { Counter, Gauge, type Metric, Registry } from "prom-client";
import type { AppEnv } from "../app-env.js";
import type { ApiServices } from "../services.js";
import { httpRequestMetrics } from "./http-request-metrics.js";
import type { RequestBudget } from "./request-door.js";

/** One API instance's Prometheus metrics: its own registry, so two apps in one process never mix. */
export interface ApiMetrics {
  registry: Registry;
  /**
   * Counts the request `c` has answered and times it from `started` (`performance.now()` at its arrival),
   * by matched route pattern (never the raw path: ids would explode it). Called once per request by the
   * app's first middleware, which also gives the request its id: one layer for both, as each Hono layer
   * costs about a microsecond per request.
   */
  observe(c: Context<AppEnv>, started: number): void;
}

const JOB_STATES: readonly JobState[] = ["queued", "running", "succeeded", "failed", "canceled", "expired"];
const ACCOUNT_STATES: readonly AccountState[] = ["available", "busy", "cooling_down", "dead"];
/** Upstream calls take seconds to minutes; buckets in seconds. */
const UPSTREAM_BUCKETS = [1, 5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600];
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/**
 * HTTP metrics are observed in-process; everything about jobs, keys and accounts is read at scrape time
 * from the database and the account pool, so the numbers are right whichever instance ran the job and
 * survive restarts. Labels are key names and account labels, never secrets or hashes.
 */
export function createApiMetrics(services: ApiServices, budget: RequestBudget): ApiMetrics {
  const registry = new Registry();
  const query = async (sql: string, args: Array<string | number> = []) =>
    (await withBusyRetry(() => services.database.client.execute({ sql, args }))).rows;

  const http = httpRequestMetrics(HTTP_BUCKETS);
  for (const metric of http.metrics) registry.registerMetric(metric);

  new Gauge({
    name: "codex_img_request_body_bytes_held",
    help: "Request body bytes reserved by requests that still hold them, against the request budget.",
    registers: [registry],
    collect() {
      this.set(budget.heldBytes);
    },
  });
  new Gauge({
    name: "codex_img_jobs",
    help: "Jobs in the database by state.",
    labelNames: ["state"] as const,
    registers: [registry],
    async collect() {
      const rows = await query("SELECT state, count(*) AS n FROM jobs GROUP BY state");
      const counts = new Map(rows.map((row) => [String(row.state), Number(row.n)]));
      for (const state of JOB_STATES) this.set({ state }, counts.get(state) ?? 0);
    },
  });
  new Gauge({
    name: "codex_img_queue_depth",
    help: "Jobs waiting to be claimed.",
    registers: [registry],
    async collect() {
      const rows = await query("SELECT count(*) AS n FROM jobs WHERE state = 'queued'");
      this.set(Number(rows[0]?.n ?? 0));
    },
  });
  new Counter({
    name: "codex_img_jobs_finished_total",
    help: "Finished jobs by final state and backend, from the history (expired jobs count under the state they ended in).",
    labelNames: ["state", "backend"] as const,
    registers: [registry],
    async collect() {
      // Retention turns finished jobs into `expired`; their error code still tells how they ended, so
      // this stays monotonic until a job is deleted from the history.
      const rows = await query(
        `SELECT CASE WHEN state <> 'expired' THEN state WHEN error_code IS NULL THEN 'succeeded'
                     WHEN error_code = 'canceled' THEN 'canceled' ELSE 'failed' END AS final,
                COALESCE(backend, 'none') AS backend, count(*) AS n
         FROM jobs WHERE state IN ('succeeded', 'failed', 'canceled', 'expired') GROUP BY final, backend`,
      );
      this.reset();
      for (const row of rows) {
        this.inc({ state: String(row.final), backend: String(row.backend) }, Number(row.n));
      }
    },
  });
  registry.registerMetric(upstreamHistogram(query));
  new Counter({
    name: "codex_img_db_write_transactions_total",
    help: "Write transactions this process committed to the database (a job's life costs three: create, claim, finish).",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(writeTransactionCount(services.database));
    },
  });
  new Counter({
    name: "codex_img_key_images_total",
    help: "Final images generated per API key name (partial previews excluded).",
    labelNames: ["key_name"] as const,
    registers: [registry],
    async collect() {
      const rows = await query(
        "SELECT COALESCE(key_name, '') AS name, count(*) AS n FROM image_keys WHERE partial = 0 GROUP BY name",
      );
      this.reset();
      for (const row of rows) this.inc({ key_name: String(row.name) }, Number(row.n));
    },
  });

  new Gauge({
    name: "codex_img_account_quota_used_percent",
    help: "Used percent of each account's subscription window (primary: short, secondary: weekly).",
    labelNames: ["account", "window"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const view of services.pool?.snapshot() ?? []) {
        const { primary, secondary } = view.quota ?? {};
        if (primary) this.set({ account: view.label, window: "primary" }, primary.usedPercent);
        if (secondary) this.set({ account: view.label, window: "secondary" }, secondary.usedPercent);
      }
    },
  });
  new Gauge({
    name: "codex_img_account_state",
    help: "1 for each account's current state, 0 for the others.",
    labelNames: ["account", "state"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const view of services.pool?.snapshot() ?? []) {
        for (const state of ACCOUNT_STATES) {
          this.set({ account: view.label, state }, view.state === state ? 1 : 0);
        }
      }
    },
  });
  new Gauge({
    name: "codex_img_account_cooldown_seconds",
    help: "Seconds until each account's cooldown ends (0 when not cooling down).",
    labelNames: ["account"] as const,
    registers: [registry],
    collect() {
      this.reset();
      const now = services.clock.now();
      for (const view of services.pool?.snapshot() ?? []) {
        const left = view.cooldownUntil === undefined ? 0 : Math.max(0, view.cooldownUntil - now) / 1000;
        this.set({ account: view.label }, left);
      }
    },
  });

  const observe = (c: Context<AppEnv>, started: number): void => {
    const path = routePath(c);
    // `/*` means only global middleware matched: a 404, whose raw path must not become a label.
    const route = path === "/*" || path === "*" || path === "" ? "unmatched" : path;
    http.record(route, c.req.method, c.res.status, (performance.now() - started) / 1000);
  };
  return { registry, observe };
}

type Rows = Array<Record<string, unknown>>;

/**
 * `codex_img_upstream_seconds`: attempt durations from `job_attempts` (rows never change once finished),
 * counted into buckets by SQL at scrape. prom-client's Histogram only learns through `observe`, so this is
 * a small metric object in the shape the registry reads.
 */
function upstreamHistogram(query: (sql: string) => Promise<Rows>): Metric {
  const name = "codex_img_upstream_seconds";
  const bucketSql = UPSTREAM_BUCKETS.map((le, i) => `sum(duration_ms <= ${le * 1000}) AS b${i}`).join(", ");
  const metric = {
    name,
    help: "Duration of finished upstream attempts by backend, seconds.",
    type: "histogram",
    aggregator: "sum",
    async get() {
      const rows = await query(
        `SELECT COALESCE(backend, 'none') AS backend, count(*) AS n, COALESCE(sum(duration_ms), 0) AS total,
                ${bucketSql}
         FROM job_attempts WHERE duration_ms IS NOT NULL GROUP BY backend`,
      );
      const values = rows.flatMap((row) => {
        const backend = String(row.backend);
        return [
          ...UPSTREAM_BUCKETS.map((le, i) => ({
            metricName: `${name}_bucket`,
            labels: { backend, le },
            value: Number(row[`b${i}`] ?? 0),
          })),
          { metricName: `${name}_bucket`, labels: { backend, le: "+Inf" }, value: Number(row.n) },
          { metricName: `${name}_sum`, labels: { backend }, value: Number(row.total) / 1000 },
          { metricName: `${name}_count`, labels: { backend }, value: Number(row.n) },
        ];
      });
      return { name, help: metric.help, type: "histogram", aggregator: "sum", values };
    },
    reset() {},
  };
  return metric as unknown as Metric;
}
