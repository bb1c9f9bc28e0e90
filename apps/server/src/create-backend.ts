import { homedir } from "node:os";
import {
  type AccountPool,
  accountsFromCodexHomes,
  type Clock,
  createAccountPool,
  createCodexCliBackend,
  createCodexHttpBackend,
  createDemoBackend,
  createExactFetch,
  createOpenAiBackend,
  detectCodexOsInfo,
  type ImageBackend,
  type Logger,
  parseCodexHomes,
  startUsagePolling,
  type UsagePolling,
} from "@codex-img/core";
import type { Config } from "./config/index.js";
import type { SelectedBackend } from "./preflight.js";

export interface RunningBackend {
  backend: ImageBackend;
  /** Accounts to run as, for the backends that use Codex logins. */
  pool?: AccountPool;
  /** Polls every account's usage endpoint at start and on `usagePollSeconds` (Codex logins only). */
  startUsagePolling?: (clock: Clock) => UsagePolling;
}

/** `https://chatgpt.com/backend-api/codex` → `https://chatgpt.com/backend-api`, where `/wham/usage` lives. */
export function usageBaseUrl(codexBaseUrl: string): string {
  return codexBaseUrl.replace(/\/+$/, "").replace(/\/codex$/, "");
}

/** The backend the preflight selected, with its account pool built from the Codex homes. */
export function createBackend(config: Config, selected: SelectedBackend, logger: Logger): RunningBackend {
  if (selected === "demo") return { backend: createDemoBackend() };
  if (selected === "openai") {
    if (!config.openaiApiKey) throw new Error("the openai backend needs OPENAI_API_KEY");
    return { backend: createOpenAiBackend({ apiKey: config.openaiApiKey, logger }) };
  }
  const homes = parseCodexHomes(config.codexHomes, `${homedir()}/.codex`);
  // One identity and one exact-header client for the image calls and the token refreshes alike.
  const client = { version: config.codexVersion, osInfo: detectCodexOsInfo() };
  const fetch = createExactFetch();
  const accounts = accountsFromCodexHomes(homes, {
    backend: selected,
    client,
    fetch,
    ...(config.refreshTokenUrl ? { tokenUrl: config.refreshTokenUrl } : {}),
    logger,
  });
  const pool = createAccountPool({
    accounts,
    mode: config.dispatchMode,
    minRemainingPercent: config.minRemainingPercent,
    logger,
  });
  const polling =
    config.usagePollSeconds > 0
      ? (clock: Clock): UsagePolling =>
          startUsagePolling(pool, {
            intervalMs: config.usagePollSeconds * 1000,
            baseUrl: usageBaseUrl(config.codexBaseUrl),
            // The same identity and exact-header client as the image calls: the CLI's wham headers.
            client,
            fetch,
            clock,
            logger,
          })
      : undefined;
  if (selected === "codex-cli") {
    return {
      pool,
      ...(polling ? { startUsagePolling: polling } : {}),
      backend: createCodexCliBackend({
        codexPath: config.codexCliPath,
        sandbox: config.cliSandbox,
        ...(config.refreshTokenUrl ? { refreshTokenUrl: config.refreshTokenUrl } : {}),
        logger,
      }),
    };
  }
  return {
    pool,
    ...(polling ? { startUsagePolling: polling } : {}),
    backend: createCodexHttpBackend({
      baseUrl: config.codexBaseUrl,
      client,
      fetch,
      idleTimeoutMs: config.upstreamIdleTimeoutSeconds * 1000,
      totalTimeoutMs: config.upstreamTotalTimeoutSeconds * 1000,
      logger,
    }),
  };
}
