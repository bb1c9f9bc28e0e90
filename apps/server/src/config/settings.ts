import {
  CODEX_CLI_VERSION,
  CODEX_DEFAULT_BASE_URL,
  DEFAULT_TOKEN_URL,
  DISPATCH_MODES,
} from "@codex-img/core";
import { z } from "zod";

/** How a raw string (flag or environment) becomes the value the schema checks. */
export type SettingKind = "string" | "integer" | "number" | "boolean";

/** One setting: its schema (with the default) and every name it can be given by. */
export interface SettingSpec<S extends z.ZodType = z.ZodType> {
  schema: S;
  kind: SettingKind;
  /** Command-line flag without the leading `--`. */
  flag: string;
  /** The codex-img name (`CODEX_IMG_*`); wins over `legacyEnv` when both are set. */
  env: string;
  /** Older names that keep working, in priority order: the predecessor's first, then common ones. */
  legacyEnv: readonly string[];
  unit?: string;
  /** Never printed, never echoed in an error; shown as "[set]" / "[not set]". */
  secret?: boolean;
  /** The default as the documentation states it (some are derived from other settings). */
  defaultText: string;
  description: string;
}

function spec<S extends z.ZodType>(value: SettingSpec<S>): SettingSpec<S> {
  return value;
}

export const BACKEND_CHOICES = ["auto", "codex-http", "codex-cli", "openai", "demo"] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export const CLI_SANDBOXES = ["read-only", "bypass"] as const;

const httpUrl = z
  .url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" })
  .transform((url) => url.replace(/\/+$/, ""));

const positiveNumber = (max: number) =>
  z
    .number({ error: "must be a number" })
    .gt(0, { error: "must be greater than 0" })
    .max(max, { error: `must be at most ${max}` });

const intRange = (min: number, max: number) =>
  z
    .int({ error: "must be a whole number" })
    .min(min, { error: `must be from ${min} to ${max}` })
    .max(max, { error: `must be from ${min} to ${max}` });

/**
 * Every setting of the server. The documentation table (docs/configuration.md) lists exactly these keys;
 * a test keeps the two in step.
 */
export const SETTINGS = {
  host: spec({
    schema: z.string().min(1, { error: "must not be empty" }).default("127.0.0.1"),
    kind: "string",
    flag: "host",
    env: "CODEX_IMG_HOST",
    legacyEnv: [],
    defaultText: "127.0.0.1",
    description:
      "Address to listen on. Anything other than loopback needs a strong admin password (see adminPassword).",
  }),
  port: spec({
    schema: intRange(0, 65_535).default(8000),
    kind: "integer",
    flag: "port",
    env: "CODEX_IMG_PORT",
    legacyEnv: ["PORT"],
    defaultText: "8000",
    description: "TCP port to listen on; 0 picks a free one. `PORT` is honoured for hosting platforms.",
  }),
  publicBaseUrl: spec({
    schema: httpUrl.optional(),
    kind: "string",
    flag: "public-base-url",
    env: "CODEX_IMG_PUBLIC_BASE_URL",
    legacyEnv: ["PUBLIC_BASE_URL"],
    defaultText: "http://<host>:<port>",
    description:
      "The URL callers reach the server at, including any path prefix of a reverse proxy. Image URLs in replies start with it.",
  }),
  basePath: spec({
    schema: z
      .string()
      .regex(/^(\/[^/\s?#]+)*$/, { error: 'must be empty or a path like "/codex-image" (no trailing slash)' })
      .optional(),
    kind: "string",
    flag: "base-path",
    env: "CODEX_IMG_BASE_PATH",
    legacyEnv: ["ADMIN_URL_PREFIX"],
    defaultText: "path of publicBaseUrl",
    description:
      "Path prefix a reverse proxy serves the app under; used for dashboard links and the session cookie path.",
  }),
  dataDir: spec({
    schema: z.string().min(1, { error: "must not be empty" }).default("./data"),
    kind: "string",
    flag: "data-dir",
    env: "CODEX_IMG_DATA_DIR",
    legacyEnv: ["DATA_DIR"],
    defaultText: "./data",
    description:
      "Folder for images, the local database, the generated session secret and config.json; relative to the working folder.",
  }),
  databaseUrl: spec({
    schema: z
      .string()
      .regex(/^(file:|libsql:\/\/|https?:\/\/|wss?:\/\/)/, {
        error: "must start with file:, libsql://, https:// or wss://",
      })
      .optional(),
    kind: "string",
    flag: "database-url",
    env: "CODEX_IMG_DATABASE_URL",
    legacyEnv: ["DATABASE_URL"],
    defaultText: "file:<dataDir>/codex-img.db",
    description: "libSQL database: a local `file:` path, or `libsql://…` for Turso (with databaseAuthToken).",
  }),
  databaseAuthToken: spec({
    schema: z.string().optional(),
    kind: "string",
    flag: "database-auth-token",
    env: "CODEX_IMG_DATABASE_AUTH_TOKEN",
    legacyEnv: ["DATABASE_AUTH_TOKEN"],
    secret: true,
    defaultText: "not set",
    description: "Auth token of a remote (Turso) database or of the sync URL.",
  }),
  databaseSyncUrl: spec({
    schema: z
      .string()
      .regex(/^(libsql:\/\/|https?:\/\/|wss?:\/\/)/, {
        error: "must start with libsql://, https:// or wss://",
      })
      .optional(),
    kind: "string",
    flag: "database-sync-url",
    env: "CODEX_IMG_DATABASE_SYNC_URL",
    legacyEnv: ["DATABASE_SYNC_URL"],
    defaultText: "not set",
    description:
      "Remote database an embedded replica syncs with; needs a `file:` databaseUrl. For read-heavy setups.",
  }),
  databaseSyncIntervalSeconds: spec({
    schema: intRange(1, 86_400).default(60),
    kind: "integer",
    flag: "database-sync-interval-seconds",
    env: "CODEX_IMG_DATABASE_SYNC_INTERVAL_SECONDS",
    legacyEnv: [],
    unit: "s",
    defaultText: "60",
    description: "How often an embedded replica pulls from databaseSyncUrl.",
  }),
  adminPassword: spec({
    schema: z.string().optional(),
    kind: "string",
    flag: "admin-password",
    env: "CODEX_IMG_ADMIN_PASSWORD",
    legacyEnv: ["ADMIN_PASSWORD"],
    secret: true,
    defaultText: "not set",
    description:
      "Password of the dashboard. Required (12+ characters, not a known default) to listen beyond loopback.",
  }),
  sessionSecret: spec({
    schema: z
      .string()
      .min(16, { error: "must be at least 16 characters (leave it unset to have one generated)" })
      .optional(),
    kind: "string",
    flag: "session-secret",
    env: "CODEX_IMG_SESSION_SECRET",
    legacyEnv: ["ADMIN_SESSION_SECRET"],
    secret: true,
    defaultText: "generated, kept in dataDir",
    description:
      "Key that signs admin session cookies and signed image URLs. When unset, a random one is generated once and kept in the data folder.",
  }),
  codexHomes: spec({
    schema: z.string().min(1, { error: "must not be empty" }).default("~/.codex"),
    kind: "string",
    flag: "codex-homes",
    env: "CODEX_IMG_CODEX_HOMES",
    legacyEnv: ["CODEX_HOMES", "CODEX_HOME"],
    defaultText: "~/.codex",
    description:
      "Codex homes (one `codex login` each), separated by `:`, each optionally `label=folder`. One account per home.",
  }),
  backend: spec({
    schema: z
      .enum(BACKEND_CHOICES, { error: `must be one of ${BACKEND_CHOICES.join(", ")}` })
      .default("auto"),
    kind: "string",
    flag: "backend",
    env: "CODEX_IMG_BACKEND",
    legacyEnv: [],
    defaultText: "auto",
    description:
      "Image backend. `auto`: codex-http when at least one Codex login is usable, else demo (placeholders).",
  }),
  openaiApiKey: spec({
    schema: z.string().optional(),
    kind: "string",
    flag: "openai-api-key",
    env: "CODEX_IMG_OPENAI_API_KEY",
    legacyEnv: ["OPENAI_API_KEY"],
    secret: true,
    defaultText: "not set",
    description: "OpenAI Platform API key; required by the `openai` backend (billed per image).",
  }),
  workerConcurrency: spec({
    schema: intRange(1, 256).default(2),
    kind: "integer",
    flag: "worker-concurrency",
    env: "CODEX_IMG_WORKER_CONCURRENCY",
    legacyEnv: ["CODEX_WORKER_CONCURRENCY"],
    unit: "jobs",
    defaultText: "2",
    description: "Jobs this instance runs at once (each account also has its own limit).",
  }),
  queueMaxSize: spec({
    schema: intRange(1, 1_000_000).default(50),
    kind: "integer",
    flag: "queue-max-size",
    env: "CODEX_IMG_QUEUE_MAX_SIZE",
    legacyEnv: ["GENERATION_QUEUE_MAX_SIZE"],
    unit: "jobs",
    defaultText: "50",
    description: "Queued jobs at most; beyond it new requests get `queue_full` (503 with Retry-After).",
  }),
  requestWaitTimeoutSeconds: spec({
    schema: intRange(1, 86_400).default(600),
    kind: "integer",
    flag: "request-wait-timeout-seconds",
    env: "CODEX_IMG_REQUEST_WAIT_TIMEOUT_SECONDS",
    legacyEnv: ["REQUEST_WAIT_TIMEOUT_SECONDS"],
    unit: "s",
    defaultText: "600",
    description: "How long a synchronous request waits for its job before replying with the job id to poll.",
  }),
  requestBudgetMb: spec({
    schema: intRange(1, 65_536).default(256),
    kind: "integer",
    flag: "request-budget-mb",
    env: "CODEX_IMG_REQUEST_BUDGET_MB",
    legacyEnv: [],
    unit: "MiB",
    defaultText: "256",
    description:
      "Request body bytes the server holds at once, all callers together (from a request's head until its references are in the image store); beyond it a request gets 503 server_busy with Retry-After.",
  }),
  minBodyRateKibPerSecond: spec({
    schema: intRange(1, 1_048_576).default(16),
    kind: "integer",
    flag: "min-body-rate-kib-per-second",
    env: "CODEX_IMG_MIN_BODY_RATE_KIB_PER_SECOND",
    legacyEnv: [],
    unit: "KiB/s",
    defaultText: "16",
    description:
      "Slowest accepted request body after bodyGraceSeconds; a body arriving slower is cut with 408 body_timeout.",
  }),
  bodyGraceSeconds: spec({
    schema: intRange(1, 3600).default(10),
    kind: "integer",
    flag: "body-grace-seconds",
    env: "CODEX_IMG_BODY_GRACE_SECONDS",
    legacyEnv: [],
    unit: "s",
    defaultText: "10",
    description: "Time a request body may take before minBodyRateKibPerSecond applies to it.",
  }),
  queueLeaseSeconds: spec({
    schema: intRange(1, 3600).default(30),
    kind: "integer",
    flag: "queue-lease-seconds",
    env: "CODEX_IMG_QUEUE_LEASE_SECONDS",
    legacyEnv: [],
    unit: "s",
    defaultText: "30",
    description:
      "Lease of a running job: a worker that stops renewing it (a crashed process) loses the job this long after its last renewal, and the job runs again.",
  }),
  imageRetentionDays: spec({
    schema: positiveNumber(3650).default(7),
    kind: "number",
    flag: "image-retention-days",
    env: "CODEX_IMG_IMAGE_RETENTION_DAYS",
    legacyEnv: ["IMAGE_RETENTION_DAYS"],
    unit: "days",
    defaultText: "7",
    description: "Images are deleted (and their jobs marked `expired`) this long after creation.",
  }),
  cleanupIntervalHours: spec({
    schema: positiveNumber(8760).default(6),
    kind: "number",
    flag: "cleanup-interval-hours",
    env: "CODEX_IMG_CLEANUP_INTERVAL_HOURS",
    legacyEnv: ["CLEANUP_INTERVAL_HOURS"],
    unit: "h",
    defaultText: "6",
    description: "How often the retention sweep runs (also once at start).",
  }),
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
  trustProxy: spec({
    schema: z.boolean({ error: "must be true or false" }).default(false),
    kind: "boolean",
    flag: "trust-proxy",
    env: "CODEX_IMG_TRUST_PROXY",
    legacyEnv: [],
    defaultText: "false",
    description:
      "Believe X-Forwarded-For / X-Forwarded-Proto (client address for limits and audit, https for cookies). Only behind a proxy you run.",
  }),
  signedUrls: spec({
    schema: z.boolean({ error: "must be true or false" }).default(true),
    kind: "boolean",
    flag: "signed-urls",
    env: "CODEX_IMG_SIGNED_URLS",
    legacyEnv: [],
    defaultText: "true",
    description:
      "Image URLs carry an expiring signature; `false` makes `/generated` URLs public as in the predecessor.",
  }),
  logLevel: spec({
    schema: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(", ")}` }).default("info"),
    kind: "string",
    flag: "log-level",
    env: "CODEX_IMG_LOG_LEVEL",
    legacyEnv: ["LOG_LEVEL"],
    defaultText: "info",
    description: "Lowest level written to the JSON log on stdout.",
  }),
};

export type SettingKey = keyof typeof SETTINGS;
export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

type SettingsShape = { [K in SettingKey]: (typeof SETTINGS)[K]["schema"] };

function shapeOf(settings: typeof SETTINGS): SettingsShape {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, setting] of Object.entries(settings)) shape[key] = setting.schema;
  return shape as SettingsShape;
}

/** The schema of every setting with its default; input is already typed (see `coerceSetting`). */
export const configSchema = z.strictObject(shapeOf(SETTINGS));

type ParsedSettings = z.output<typeof configSchema>;

/** The server's configuration after every default, including the derived ones, is filled in. */
export type Config = Omit<ParsedSettings, "databaseUrl" | "basePath"> & {
  /** Absolute path. */
  dataDir: string;
  databaseUrl: string;
  basePath: string;
};

/** Every name a setting can be given by, for messages: `--port, CODEX_IMG_PORT, PORT`. */
export function settingNames(key: SettingKey): string[] {
  const setting: SettingSpec = SETTINGS[key];
  return [`--${setting.flag}`, setting.env, ...setting.legacyEnv];
}
