import { chmod, mkdir } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import type { ApiServices } from "@codex-img/api";
import {
  type Clock,
  createFileImageStore,
  createJobQueue,
  createRunner,
  type Logger,
  parseCodexHomes,
  type Runner,
  systemClock,
} from "@codex-img/core";
import {
  type CreateDbOptions,
  createDatabaseStores,
  createDb,
  createLibsqlJobStore,
  type Database,
} from "@codex-img/db";
import { accountLogins } from "./account-logins.js";
import type { Config } from "./config/index.js";
import { resolveSessionSecret } from "./config/session-secret.js";
import { createBackend } from "./create-backend.js";
import type { SelectedBackend } from "./preflight.js";
import { runRetentionSweep } from "./retention-sweep.js";

export interface ComposedServices {
  services: ApiServices;
  runner: Runner;
  database: Database;
  imagesDir: string;
  /** Stops the workers (finishing or re-queueing running jobs) and closes the database. */
  close(options?: { graceMs?: number }): Promise<void>;
}

/** The one place that builds every service from the configuration (DESIGN.md: the composition root). */
export async function composeServices(
  config: Config,
  selected: SelectedBackend,
  options: { logger: Logger; clock?: Clock; version: string; publicBaseUrl: string },
): Promise<ComposedServices> {
  const { logger } = options;
  const clock = options.clock ?? systemClock;
  // The data folder holds the database and every image: private to the service's user, even when an
  // older version created it world-readable.
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  await chmod(config.dataDir, 0o700);
  const database = await openDatabase(config, {
    backgroundCheckpoints: {
      onFallback: (reason) =>
        logger.warn("database: checkpoints run in the commits again (the checkpoint thread stopped)", {
          reason,
        }),
    },
  });
  const imagesDir = join(config.dataDir, "images");
  const images = createFileImageStore({ dir: imagesDir });
  const queue = createJobQueue({
    store: createLibsqlJobStore(database),
    clock,
    logger,
    maxQueueLength: config.queueMaxSize,
    workerCount: config.workerConcurrency,
    leaseMs: config.queueLeaseSeconds * 1000,
  });
  const running = createBackend(config, selected, logger);
  const { backend, pool } = running;
  const runner = createRunner({
    queue,
    backend,
    images,
    clock,
    logger,
    concurrency: config.workerConcurrency,
    // Jobs of a dead worker are looked for at least once per lease, so a short lease also recovers fast.
    recoverIntervalMs: Math.min(10_000, config.queueLeaseSeconds * 1000),
    ...(pool ? { pool } : {}),
  });
  // The configuration gives the defaults; what the owner saves from the dashboard overrides them.
  const stores = createDatabaseStores(database, {
    clock,
    settingsDefaults: {
      retentionDays: config.imageRetentionDays,
      cleanupIntervalHours: config.cleanupIntervalHours,
      dispatchMode: config.dispatchMode,
    },
  });
  pool?.setMode(await stores.settings.get("dispatchMode"));
  const retentionDays = await stores.settings.get("retentionDays");
  const services: ApiServices = {
    database,
    queue,
    images,
    ...stores,
    ...(pool ? { pool } : {}),
    backend: backend.kind,
    wakeWorkers: () => runner.wake(),
    clock,
    logger,
    options: {
      publicBaseUrl: options.publicBaseUrl.replace(/\/+$/, ""),
      requestWaitTimeoutMs: config.requestWaitTimeoutSeconds * 1000,
      imageRetentionMs: retentionDays * 24 * 3_600_000,
      maxBodyBytes: 64 * 1024 * 1024,
      requestBudgetBytes: config.requestBudgetMb * 1024 * 1024,
      minBodyBytesPerSecond: config.minBodyRateKibPerSecond * 1024,
      bodyGraceMs: config.bodyGraceSeconds * 1000,
      version: options.version,
      signedUrls: config.signedUrls,
      ...(config.adminPassword ? { adminPassword: config.adminPassword } : {}),
      trustProxy: config.trustProxy,
      // The session secret is kept across restarts, so signed URLs already handed out keep working.
      ...(config.signedUrls ? { urlSigningSecret: (await resolveSessionSecret(config)).secret } : {}),
    },
  };
  services.runCleanup = () => runRetentionSweep(services, clock);
  const logins = accountLogins(pool, parseCodexHomes(config.codexHomes, join(homedir(), ".codex")));
  if (logins) services.accountLogins = logins;
  // At start and then every usagePollSeconds (jittered): an idle account shows its quota and dispatch
  // does not start blind after a restart.
  const polling = running.startUsagePolling?.(clock);
  return {
    services,
    runner,
    database,
    imagesDir,
    async close({ graceMs = 30_000 } = {}) {
      polling?.stop();
      await runner.stop({ graceMs });
      pool?.close();
      database.close();
    },
  };
}

/** The configured database (local file, Turso or embedded replica), migrated. */
export function openDatabase(
  config: Config,
  options: Pick<CreateDbOptions, "backgroundCheckpoints"> = {},
): Promise<Database> {
  return createDb({
    ...options,
    url: config.databaseUrl,
    ...(config.databaseAuthToken ? { authToken: config.databaseAuthToken } : {}),
    ...(config.databaseSyncUrl
      ? { syncUrl: config.databaseSyncUrl, syncIntervalSeconds: config.databaseSyncIntervalSeconds }
      : {}),
  });
}
