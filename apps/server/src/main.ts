#!/usr/bin/env bun
/**
 * The codex-img service process: configuration -> preflight -> services -> HTTP + workers + sweeps.
 *
 *   codex-img-server [serve]              start the service (default)
 *   codex-img-server doctor [--json]      check logins, tokens, database and backend, then exit
 *   codex-img-server create-key NAME      create an API key and print it once
 */
import { createApi } from "@codex-img/api";
import { CodexImgError, jsonLogger, type Logger, systemClock } from "@codex-img/core";
import { createDatabaseStores } from "@codex-img/db";
import { composeServices, openDatabase } from "./compose-services.js";
import { assertSafeToListen, type LoadedConfig, loadConfigFromProcess } from "./config/index.js";
import { withDashboard } from "./dashboard-site.js";
import { createFirstKeyIfNone } from "./first-key.js";
import { runPreflight } from "./preflight.js";
import { formatPreflight, preflightJson } from "./preflight-format.js";
import { scheduleRetentionSweep } from "./retention-sweep.js";
import { type FetchHandler, serveHttp } from "./serve-http.js";

const VERSION = "0.1.0";

async function main(): Promise<number> {
  let loaded: LoadedConfig;
  try {
    loaded = loadConfigFromProcess(process);
  } catch (error) {
    console.error(describeConfigError(error));
    return 2;
  }
  const { config } = loaded;
  if (loaded.help) {
    console.log(
      "Usage: codex-img-server [serve|doctor|create-key NAME] [flags]\nSettings: docs/configuration.md",
    );
    return 0;
  }
  const logger = jsonLogger({ level: config.logLevel });
  const [command = "serve", ...rest] = loaded.positionals;
  // `doctor` also reads each account's quota now; `serve` gets it from the usage poll it starts.
  const report = await runPreflight(config, {
    configWarnings: loaded.warnings,
    readQuota: command === "doctor",
  });

  if (command === "doctor") {
    console.log(loaded.json ? preflightJson(report) : formatPreflight(report));
    return report.ok ? 0 : 1;
  }
  if (command === "create-key") {
    // Only the database is needed: no workers, backend or image store start for this.
    const database = await openDatabase(config);
    const { keys, audit } = createDatabaseStores(database);
    try {
      const { key, rawKey } = await keys.create({
        name: rest.join(" ") || "cli key",
        scopes: ["generate", "edit", "vision", "jobs:read"],
      });
      await audit.record({
        actor: "system",
        action: "key.create",
        targetType: "key",
        targetId: key.id,
      });
      console.error(`Created key "${key.name}" (${key.id}). It is shown once:`);
      console.log(rawKey);
      return 0;
    } finally {
      database.close();
    }
  }
  if (command !== "serve") {
    console.error(`Unknown command "${command}". Commands: serve, doctor, create-key.`);
    return 2;
  }
  return serve(loaded, report, logger);
}

async function serve(
  loaded: LoadedConfig,
  report: Awaited<ReturnType<typeof runPreflight>>,
  logger: Logger,
): Promise<number> {
  const { config } = loaded;
  try {
    assertSafeToListen(config);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 2;
  }
  console.error(formatPreflight(report));
  if (!report.ok) return 1;

  // Bind first (port 0 picks a free port), so the public URL is known before the services are built;
  // until they are, requests get 503.
  let handler: FetchHandler = () =>
    Response.json({ status: "starting" }, { status: 503, headers: { "retry-after": "1" } });
  let http: Awaited<ReturnType<typeof serveHttp>>;
  try {
    http = await serveHttp((request, server) => handler(request, server), {
      host: config.host,
      port: config.port,
    });
  } catch (error) {
    if ((error as { code?: unknown }).code !== "EADDRINUSE") throw error;
    console.error(
      `Port ${config.port} on ${config.host} is already in use (another codex-img or another program). ` +
        "Stop it, or choose another port with --port N or CODEX_IMG_PORT=N (0 picks a free one).",
    );
    return 2;
  }
  const publicBaseUrl = config.publicBaseUrl ?? http.url;
  const composed = await composeServices(config, report.backend.selected, {
    logger,
    version: VERSION,
    publicBaseUrl,
  });
  const app = createApi(composed.services);
  handler = withDashboard((request, server) => app.fetch(request, server));
  composed.runner.start();
  const stopSweep = scheduleRetentionSweep(composed.services, { clock: systemClock, logger });

  const firstKey = await createFirstKeyIfNone(composed.services);
  console.error(`\ncodex-img ${VERSION} is listening on ${http.url} (backend: ${composed.services.backend})`);
  if (firstKey) {
    console.error("First start: created an API key. It is shown once, keep it:");
    console.error(`  ${firstKey}`);
    console.error(
      `Try: export CODEX_IMG_API_KEY=<the key above>, then\n  curl -s ${publicBaseUrl}/v1/images/generate -H "Authorization: Bearer $CODEX_IMG_API_KEY" -H "Content-Type: application/json" -d '{"prompt":"a lighthouse at dawn"}'`,
    );
  }
  console.error(
    config.adminPassword
      ? `Dashboard: ${publicBaseUrl}/admin/ (sign in with ADMIN_PASSWORD).`
      : `Dashboard: ${publicBaseUrl}/admin/ (set ADMIN_PASSWORD and restart to sign in).`,
  );
  console.error(`More keys: ${createKeyCommand()}. Stop with Ctrl-C.`);
  logger.info("listening", { url: http.url, backend: composed.services.backend });

  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info("shutting down", { signal });
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  stopSweep();
  handler = () =>
    Response.json({ status: "shutting down" }, { status: 503, headers: { "retry-after": "5" } });
  // Running jobs get the grace to finish; the rest go back to the queue for the next start.
  await composed.close({ graceMs: 25_000 });
  await http.close();
  return 0;
}

/** How to run `create-key` for this very process: the executable itself, or the checkout's script. */
function createKeyCommand(): string {
  const compiled = import.meta.url.includes("$bunfs") || import.meta.url.includes("~BUN");
  return compiled
    ? `\`${process.argv0} create-key NAME\``
    : "`npx --yes bun@1.4.5 run create-key NAME` (in the repository)";
}

function describeConfigError(error: unknown): string {
  if (error instanceof CodexImgError && Array.isArray(error.details.problems)) {
    const problems = error.details.problems as Array<{ name: string; message: string }>;
    return ["Configuration problems:", ...problems.map((p) => `  ${p.name}: ${p.message}`)].join("\n");
  }
  return error instanceof Error ? error.message : String(error);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
