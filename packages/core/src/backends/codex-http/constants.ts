/**
 * Every observed upstream fact the codex-http backend depends on (shared/reference/upstream.md §2-§3),
 * kept in one place so a drift upstream is a one-line change.
 */

/** Default base of the ChatGPT Codex backend; tests point it at a loopback fake. */
export const CODEX_DEFAULT_BASE_URL = "https://chatgpt.com/backend-api/codex";

/**
 * Oldest Codex version we claim to be. Too old a `version` header gets 400 "The '<model>' model
 * requires a newer version of Codex", so this floor moves forward with the official CLI.
 */
export const CODEX_VERSION_FLOOR = "0.169.0";

/** `originator` of the interactive official client; its absence can trigger the Cloudflare block page. */
export const CODEX_ORIGINATOR = "codex_cli_rs";

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
  sessionId: "session_id",
  clientRequestId: "x-client-request-id",
  imageTurnId: "x-codex-image-turn-id",
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
