/**
 * Every observed upstream fact the codex-http backend depends on (shared/reference/upstream.md §2-§3),
 * kept in one place so a drift upstream is a one-line change.
 */

/** Default base of the ChatGPT Codex backend; tests point it at a loopback fake. */
export const CODEX_DEFAULT_BASE_URL = "https://chatgpt.com/backend-api/codex";

/**
 * The official CLI version whose requests ours reproduce (upstream.md Appendix A was recorded from it).
 * It is the one default of the `version` setting: `version` header, User-Agent and turn metadata all say
 * it. Too old a value gets 400 "The '<model>' model requires a newer version of Codex"; `doctor` warns
 * when the installed CLI is newer, which is the moment to re-record and move this forward.
 */
export const CODEX_CLI_VERSION = "0.169.0";

/**
 * `originator` of `codex exec`, the CLI mode whose requests ours reproduce; its absence can trigger the
 * Cloudflare block page.
 */
export const CODEX_ORIGINATOR = "codex_exec";

/** Reasoning effort of the carrier turn (`reasoning.effort` and the turn metadata). */
export const CODEX_DEFAULT_REASONING_EFFORT = "low";

/**
 * The fixed part of `x-codex-turn-metadata` between the turn's ids and its start time, as `codex exec
 * -s read-only` sends it on Linux (upstream.md Appendix A), in the CLI's key order.
 */
export const CODEX_TURN_CONTEXT = {
  thread_source: "user",
  turn_trigger: "exec",
  sandbox: "seccomp",
  sandbox_mode: "read-only",
  auto_review_enabled: false,
  node_repl_auto_review_required: false,
  node_repl_disabled: false,
} as const;

/** Chat "carrier" model for the Responses route; `*-codex` models reject the hosted image tool. */
export const CODEX_DEFAULT_CARRIER_MODEL = "gpt-5.5";

/**
 * Instructions for the carrier. Must be non-empty (400 "Instructions are required"); the tool is asked
 * for here because forcing it through `tool_choice` is rejected.
 */
export const CODEX_DEFAULT_INSTRUCTIONS = "Use the image_generation tool to create the requested image.";

/** Instructions for questions about images (vision, upstream.md Appendix B): words only, no tool. */
export const CODEX_DEFAULT_VISION_INSTRUCTIONS =
  "Answer the user's question about the attached images in plain text. Do not create or edit images.";

/** The generation phase can stay silent for 60 s or more. */
export const CODEX_DEFAULT_IDLE_TIMEOUT_MS = 120_000;
export const CODEX_DEFAULT_TOTAL_TIMEOUT_MS = 300_000;

/**
 * Largest native-route reply read: n (at most 10) images of a few MB each as base64. Beyond it the reply
 * is refused instead of filling the server's memory.
 */
export const CODEX_MAX_REPLY_BYTES = 256 * 1024 * 1024;

/** Paths under the base URL. */
export const CODEX_PATHS = {
  generations: "/images/generations",
  edits: "/images/edits",
  responses: "/responses",
} as const;

/** Header names, lower-case as the fetch `Headers` object returns them. */
export const CODEX_HEADERS = {
  accountId: "chatgpt-account-id",
  originator: "originator",
  version: "version",
  sessionId: "session-id",
  threadId: "thread-id",
  clientRequestId: "x-client-request-id",
  imageTurnId: "x-codex-image-turn-id",
  turnMetadata: "x-codex-turn-metadata",
  windowId: "x-codex-window-id",
  betaFeatures: "x-codex-beta-features",
  routingHint: "x-codex-routing-hint",
  imagegenRequestId: "x-codex-imagegen-request-id",
} as const;

/** Quota headers sent on every reply (§3). `{window}` is `primary` or `secondary`. */
export const CODEX_QUOTA_HEADERS = {
  usedPercent: (window: string): string => `x-codex-${window}-used-percent`,
  windowMinutes: (window: string): string => `x-codex-${window}-window-minutes`,
  resetAt: (window: string): string => `x-codex-${window}-reset-at`,
  resetAfterSeconds: (window: string): string => `x-codex-${window}-reset-after-seconds`,
  planType: "x-codex-plan-type",
  activeLimit: "x-codex-active-limit",
  creditsHasCredits: "x-codex-credits-has-credits",
  creditsBalance: "x-codex-credits-balance",
  creditsUnlimited: "x-codex-credits-unlimited",
} as const;
