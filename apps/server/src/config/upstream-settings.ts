import {
  CODEX_CLI_VERSION,
  CODEX_DEFAULT_BASE_URL,
  DEFAULT_TOKEN_URL,
  DISPATCH_MODES,
} from "@codex-img/core";
import { z } from "zod";
import { CLI_SANDBOXES, httpUrl, intRange, spec } from "./setting-spec.js";

/**
 * How accounts are picked and the upstream is reached: dispatch, quota, Codex URLs and timeouts, the CLI.
 * Part of `SETTINGS`, in its order.
 */
export const UPSTREAM_SETTINGS = {
  dispatchMode: spec({
    schema: z
      .enum(DISPATCH_MODES as readonly ["quota-aware", "round-robin", "primary-first"], {
        error: `must be one of ${DISPATCH_MODES.join(", ")}`,
      })
      .default("quota-aware"),
    kind: "string",
    flag: "dispatch-mode",
    env: "CODEX_IMG_DISPATCH_MODE",
    legacyEnv: [],
    defaultText: "quota-aware",
    description:
      "How an account is picked per attempt: most quota left, round-robin, or primary-first (others as overflow). The dashboard can change it at run time.",
  }),
  minRemainingPercent: spec({
    schema: z
      .number({ error: "must be a number" })
      .min(0, { error: "must be from 0 to 100" })
      .max(100, { error: "must be from 0 to 100" })
      .default(5),
    kind: "number",
    flag: "min-remaining-percent",
    env: "CODEX_IMG_MIN_REMAINING_PERCENT",
    legacyEnv: [],
    unit: "%",
    defaultText: "5",
    description: "An account whose tightest quota window has less left than this is skipped until it resets.",
  }),
  usagePollSeconds: spec({
    schema: intRange(0, 86_400).default(300),
    kind: "integer",
    flag: "usage-poll-seconds",
    env: "CODEX_IMG_USAGE_POLL_SECONDS",
    legacyEnv: [],
    unit: "s",
    defaultText: "300",
    description:
      "How often each Codex account's usage endpoint is read (at start, then with ±20% jitter; skipped while an account cools down until a known reset). 0 turns it off.",
  }),
  codexBaseUrl: spec({
    schema: httpUrl.default(CODEX_DEFAULT_BASE_URL),
    kind: "string",
    flag: "codex-base-url",
    env: "CODEX_IMG_CODEX_BASE_URL",
    legacyEnv: [],
    defaultText: CODEX_DEFAULT_BASE_URL,
    description: "Base URL of the ChatGPT Codex backend (tests point it at a loopback fake).",
  }),
  codexVersion: spec({
    schema: z
      .string()
      .regex(/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/, { error: "must be a version such as 0.169.0" })
      .default(CODEX_CLI_VERSION),
    kind: "string",
    flag: "codex-version",
    env: "CODEX_IMG_CODEX_VERSION",
    legacyEnv: [],
    defaultText: CODEX_CLI_VERSION,
    description:
      "The official Codex CLI version the codex-http backend presents itself as (version header, User-Agent, turn metadata); `doctor` warns when the installed CLI is newer.",
  }),
  upstreamIdleTimeoutSeconds: spec({
    schema: intRange(1, 3600).default(120),
    kind: "integer",
    flag: "upstream-idle-timeout-seconds",
    env: "CODEX_IMG_UPSTREAM_IDLE_TIMEOUT_SECONDS",
    legacyEnv: [],
    unit: "s",
    defaultText: "120",
    description:
      "A call to the Codex backend that sends nothing for this long is abandoned (upstream can stay silent 60 s or more while generating).",
  }),
  upstreamTotalTimeoutSeconds: spec({
    schema: intRange(1, 86_400).default(300),
    kind: "integer",
    flag: "upstream-total-timeout-seconds",
    env: "CODEX_IMG_UPSTREAM_TOTAL_TIMEOUT_SECONDS",
    legacyEnv: [],
    unit: "s",
    defaultText: "300",
    description: "Longest a single call to the Codex backend may take in all.",
  }),
  refreshTokenUrl: spec({
    schema: httpUrl.default(DEFAULT_TOKEN_URL),
    kind: "string",
    flag: "refresh-token-url",
    env: "CODEX_IMG_REFRESH_TOKEN_URL",
    legacyEnv: ["CODEX_REFRESH_TOKEN_URL_OVERRIDE"],
    defaultText: DEFAULT_TOKEN_URL,
    description:
      "OAuth token endpoint used to refresh Codex logins (the official CLI's override name works).",
  }),
  codexCliPath: spec({
    schema: z.string().min(1, { error: "must not be empty" }).default("codex"),
    kind: "string",
    flag: "codex-cli-path",
    env: "CODEX_IMG_CODEX_CLI_PATH",
    legacyEnv: [],
    defaultText: "codex",
    description:
      "The `codex` executable for the codex-cli backend; looked up on PATH unless a path is given.",
  }),
  cliSandbox: spec({
    schema: z
      .enum(CLI_SANDBOXES, { error: `must be one of ${CLI_SANDBOXES.join(", ")}` })
      .default("read-only"),
    kind: "string",
    flag: "cli-sandbox",
    env: "CODEX_IMG_CLI_SANDBOX",
    legacyEnv: [],
    defaultText: "read-only",
    description:
      "Sandbox of `codex exec`. `bypass` only inside a container that is itself the sandbox (the Linux sandbox cannot start there).",
  }),
};
