import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type AccountPool,
  createDemoBackend,
  createFileImageStore,
  createJobQueue,
  createRunner,
  type ImageBackend,
  type JobQueue,
  type Runner,
  silentLogger,
  systemClock,
} from "@codex-img/core";
import {
  createDatabaseStores,
  createDb,
  createLibsqlJobStore,
  type Database,
  KEY_SCOPES,
  type KeyLimits,
  type KeyScope,
} from "@codex-img/db";
import type { Hono } from "hono";
import type { AppEnv } from "../app-env.js";
import { createApi } from "../create-api.js";
import type { ApiOptions, ApiServices } from "../services.js";

export interface ApiHarnessOptions {
  /** Overrides of the API options (defaults: 5 s sync wait, 7 days retention, 20 MB bodies). */
  options?: Partial<ApiOptions>;
  /** Default the demo backend. */
  backend?: ImageBackend;
  /** Start the runner in the background. Default true; with false, tests drive it with `runner.runOnce()`. */
  startRunner?: boolean;
  /** Queued jobs before `queue_full`. Default 50. */
  maxQueueLength?: number;
  /** An account pool that the runner leases from and the services show (the overview, `/ready`). */
  pool?: AccountPool;
  /** Extra fields for the services (a `pool` given here is only shown, not used by the runner). */
  services?: Partial<ApiServices>;
}

export interface ApiHarness {
  /** The whole app from `createApi`: drive it with `app.request()`. */
  app: Hono<AppEnv>;
  services: ApiServices;
  database: Database;
  queue: JobQueue;
  runner: Runner;
  /** A new key's raw value; default every scope but `admin`, no limits. */
  createKey(scopes?: KeyScope[], limits?: Partial<KeyLimits>): Promise<string>;
  /** Rows in `jobs`, to prove that a refused request created nothing. */
  countJobs(): Promise<number>;
  close(): Promise<void>;
}

export const TEST_BASE_URL = "https://img.test";

/**
 * Real components end to end: a temp libSQL file, the libSQL job store, a file image store in a temp
 * folder, key store and usage counters on the same database, and a runner on the demo backend (real PNGs,
 * no network).
 */
export async function createApiHarness(harnessOptions: ApiHarnessOptions = {}): Promise<ApiHarness> {
  const dir = await mkdtemp(join(tmpdir(), "codex-img-api-"));
  const database = await createDb({ url: `file:${join(dir, "codex-img.db")}` });
  const images = createFileImageStore({ dir: join(dir, "images") });
  const queue = createJobQueue({
    store: createLibsqlJobStore(database),
    pollIntervalMs: 50,
    ...(harnessOptions.maxQueueLength === undefined ? {} : { maxQueueLength: harnessOptions.maxQueueLength }),
  });
  const backend = harnessOptions.backend ?? createDemoBackend();
  const pool = harnessOptions.pool;
  const runner = createRunner({
    queue,
    backend,
    images,
    pollIntervalMs: 50,
    recoverIntervalMs: 0,
    ...(pool ? { pool } : {}),
  });
  const stores = createDatabaseStores(database);
  const { keys } = stores;
  const services: ApiServices = {
    database,
    queue,
    images,
    ...stores,
    backend: backend.kind,
    wakeWorkers: () => runner.wake(),
    clock: systemClock,
    logger: silentLogger,
    options: {
      publicBaseUrl: TEST_BASE_URL,
      requestWaitTimeoutMs: 5_000,
      imageRetentionMs: 7 * 24 * 3_600_000,
      maxBodyBytes: 20 * 1024 * 1024,
      version: "0.0.0-test",
      ...harnessOptions.options,
    },
    ...(pool ? { pool } : {}),
    ...harnessOptions.services,
  };
  let app: ReturnType<typeof createApi>;
  try {
    app = createApi(services);
  } catch (error) {
    // Options the API refuses: nothing is left behind (the database closed, the temporary folder removed).
    database.close();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  if (harnessOptions.startRunner ?? true) runner.start();
  let counter = 0;
  return {
    app,
    services,
    database,
    queue,
    runner,
    async createKey(scopes = KEY_SCOPES.filter((scope) => scope !== "admin"), limits = {}) {
      const { rawKey } = await keys.create({ name: `test key ${++counter}`, scopes, limits });
      return rawKey;
    },
    async countJobs() {
      const result = await database.client.execute("SELECT count(*) AS n FROM jobs");
      return Number(result.rows[0]?.n ?? 0);
    },
    async close() {
      await runner.stop({ graceMs: 1_000 });
      database.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Headers of a JSON request with a bearer key. */
export function authJson(rawKey: string, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${rawKey}`, "content-type": "application/json", ...extra };
}
