import { z } from "zod";
import { BACKEND_CHOICES, intRange, positiveNumber, spec } from "./setting-spec.js";

/**
 * What runs jobs and how many: Codex homes, backend, workers, queue, request limits, retention.
 * Part of `SETTINGS`, in its order.
 */
export const JOB_SETTINGS = {
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
};
