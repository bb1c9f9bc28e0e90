import { homedir } from "node:os";
import { join } from "node:path";
import { compareSemver, parseCodexHomes, readLocalCodexVersions } from "@codex-img/core";
import { checkListenSafety, isLoopbackHost } from "./config/listen-safety.js";
import type { BackendChoice } from "./config/setting-spec.js";
import type { Config } from "./config/settings.js";
import { inspectCodexHome } from "./inspect-codex-home.js";
import { isLoopbackDatabase, preflightDatabase } from "./preflight-database.js";
import type { PreflightOptions, PreflightReport } from "./preflight-report.js";
import { exposureWarnings, sharedAccountWarnings } from "./preflight-warnings.js";
import { readAccountQuotas } from "./read-account-quota.js";

/** The backend the server runs: `auto` resolved by `runPreflight`. */
export type SelectedBackend = Exclude<BackendChoice, "auto">;

/**
 * Checks what the server is about to run with, without changing anything: reads each Codex home's
 * auth.json (no refresh, no write), decides the backend, and names the database and listen address.
 */
export async function runPreflight(config: Config, options: PreflightOptions = {}): Promise<PreflightReport> {
  const now = options.now ?? Date.now();
  const homes = parseCodexHomes(config.codexHomes, join(homedir(), ".codex"));
  const accounts = await Promise.all(homes.map((entry) => inspectCodexHome(entry, now)));
  const usableAccounts = accounts.filter((account) => account.usable).length;
  if (options.readQuota) await readAccountQuotas(accounts, config);

  const warnings = [...(options.configWarnings ?? [])];
  const problems: string[] = [];
  const listen = listenOf(config);
  const safety = checkListenSafety(config);
  if (!safety.safe && safety.reason) problems.push(safety.reason);

  const backend = selectBackend(config, accounts.length, usableAccounts);
  let notice: string | undefined;
  if (backend.selected === "demo") {
    notice = box(
      config.backend === "auto"
        ? [
            "DEMO MODE: no usable Codex login was found.",
            "Every image this server returns is a generated PLACEHOLDER.",
            "To use your ChatGPT subscription: run `codex login` (or point",
            "CODEX_HOMES at logged-in Codex homes), then restart.",
          ]
        : [
            "DEMO MODE: the demo backend was chosen (backend=demo).",
            "Every image is a generated PLACEHOLDER.",
          ],
    );
    if (config.backend === "auto") {
      warnings.push("No usable Codex login: serving placeholder images from the demo backend.");
    }
  }
  if ((backend.selected === "codex-http" || backend.selected === "codex-cli") && usableAccounts === 0) {
    warnings.push(
      `The ${backend.selected} backend was chosen but no Codex home has a usable login: every request ` +
        "will fail with no_account_available until you run `codex login`.",
    );
  }
  const unusable = accounts.filter((account) => !account.usable);
  if (unusable.length > 0 && usableAccounts > 0) {
    warnings.push(
      `${unusable.length} of ${accounts.length} Codex homes cannot be used: ${unusable.map((a) => a.label).join(", ")}.`,
    );
  }
  warnings.push(...sharedAccountWarnings(accounts));

  let cli: PreflightReport["backend"]["cli"];
  const read =
    options.readCliVersion ??
    (async (path: string) => (await readLocalCodexVersions({ executable: path })).installed);
  if (backend.selected === "codex-http") {
    const installed = await read(config.codexCliPath);
    if (installed !== undefined && compareSemver(installed, config.codexVersion) > 0) {
      warnings.push(
        `The installed Codex CLI is ${installed}, newer than the ${config.codexVersion} whose requests codex-http ` +
          "reproduces (codexVersion). Upstream may start to expect the newer client: update codex-img, or " +
          "re-record the CLI's requests and raise codexVersion.",
      );
    }
  }
  if (backend.selected === "codex-cli") {
    const version = await read(config.codexCliPath);
    cli = { path: config.codexCliPath, found: version !== undefined, ...(version ? { version } : {}) };
    if (version === undefined) {
      problems.push(
        `The codex-cli backend needs the Codex CLI, but \`${config.codexCliPath} --version\` did not answer: ` +
          "install @openai/codex or set codexCliPath.",
      );
    }
    if (config.cliSandbox === "bypass") {
      warnings.push(
        "cliSandbox is bypass: `codex exec` runs without its sandbox. Only do this inside a container.",
      );
    }
  }
  if (backend.selected === "openai") warnings.push("The openai backend bills the API key per image.");

  warnings.push(...exposureWarnings(config, listen.loopback));
  const database = preflightDatabase(config);
  if (database.kind !== "local" && database.authToken === "[not set]" && !isLoopbackDatabase(config)) {
    warnings.push(
      "The database is remote but databaseAuthToken is not set; Turso will refuse the connection.",
    );
  }

  return {
    checkedAt: new Date(now).toISOString(),
    ok: problems.length === 0,
    problems,
    listen,
    database,
    backend: { configured: config.backend, ...backend, usableAccounts, ...(cli ? { cli } : {}) },
    accounts,
    warnings,
    ...(notice === undefined ? {} : { notice }),
  };
}
function selectBackend(
  config: Config,
  homes: number,
  usable: number,
): { selected: SelectedBackend; reason: string } {
  if (config.backend !== "auto") return { selected: config.backend, reason: "chosen in the configuration" };
  if (usable > 0) {
    return { selected: "codex-http", reason: `auto: ${usable} of ${homes} Codex logins usable` };
  }
  return { selected: "demo", reason: `auto: none of ${homes} Codex homes has a usable login` };
}

function listenOf(config: Config): PreflightReport["listen"] {
  const loopback = isLoopbackHost(config.host);
  const host = config.host.includes(":") && !config.host.startsWith("[") ? `[${config.host}]` : config.host;
  const url = config.publicBaseUrl ?? `http://${host}:${config.port}${config.basePath}`;
  return { host: config.host, port: config.port, url, loopback };
}
function box(lines: readonly string[]): string {
  const width = Math.max(...lines.map((line) => line.length));
  const bar = "!".repeat(width + 8);
  return [bar, ...lines.map((line) => `!!  ${line.padEnd(width)}  !!`), bar].join("\n");
}
