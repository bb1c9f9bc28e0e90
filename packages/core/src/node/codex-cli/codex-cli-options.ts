import type { Clock } from "../../clock.js";
import type { Logger } from "../../logger.js";

/**
 * `read-only`: `-s read-only`, the default. `bypass`: `--dangerously-bypass-approvals-and-sandbox`, only
 * for containers where the Linux sandbox cannot start and the container itself is the sandbox.
 */
export type CodexCliSandbox = "read-only" | "bypass";

export interface CodexCliBackendOptions {
  /** The `codex` executable. Default `codex`, looked up on PATH. */
  codexPath?: string;
  /** Default `read-only`. */
  sandbox?: CodexCliSandbox;
  /** Wall time per run before SIGTERM, ms. Default 360 000. */
  timeoutMs?: number;
  /** Time between SIGTERM and SIGKILL, ms. Default 10 000 (the CLI may be writing a rotated auth.json). */
  killGraceMs?: number;
  /** Parent of the fresh per-run work folders (`-C`). Default `<os tmp>/codex-img-cli`. */
  workRoot?: string;
  /** The agent's model (`-m`). Default: the CLI's own default. */
  model?: string;
  /**
   * Pass `--ephemeral`: the CLI writes no session rollout and (0.169.0) no thread history into its sqlite
   * state, which otherwise grows by every image's base64 in the Codex home, but still saves the image
   * under generated_images. Default `"auto"`: on when `codex --version` says `EPHEMERAL_CLI_VERSION` or
   * newer (checked once), off for older CLIs, which record the image only in the rollout.
   */
  ephemeral?: boolean | "auto";
  /** Extra `-c key=value` overrides, e.g. `chatgpt_base_url` / `openai_base_url` for tests. Strings become TOML strings. */
  config?: Record<string, string | number | boolean>;
  /** Extra environment variable names to pass from `parentEnv` to the child (proxies, for example). */
  envAllowList?: readonly string[];
  /** Where PATH, HOME, LANG… are copied from. Default `process.env`; nothing else of it reaches the child. */
  parentEnv?: Record<string, string | undefined>;
  /** PEM file given to the child as `CODEX_CA_CERTIFICATE` (the throwaway CA of the loopback fake). */
  caCertificatePath?: string;
  /** `CODEX_REFRESH_TOKEN_URL_OVERRIDE` for the child. */
  refreshTokenUrl?: string;
  /** Codex home used when a call brings no `account.codexHome`. */
  defaultCodexHome?: string;
  /** How long to wait for another process's run or refresh on the same home, ms. Default timeout + grace + 30 s. */
  lockWaitTimeoutMs?: number;
  /** Times the run's timeout and kill grace. Default the system clock. */
  clock?: Clock;
  logger?: Logger;
}

/** The first CLI seen to keep the image under generated_images with `--ephemeral` (docs/testing.md). */
export const EPHEMERAL_CLI_VERSION = "0.169.0";
