import type { ClientErrorCode } from "../errors.js";
import { isCodexImgClientError } from "../errors.js";

/** The documented exit codes (docs/cli.md, `codex-img --help`). */
export const EXIT = {
  ok: 0,
  other: 1,
  usage: 2,
  auth: 3,
  quota: 4,
  upstream: 5,
  unreachable: 6,
  outputExists: 7,
  /** Ctrl-C (128 + SIGINT), after the server job was canceled. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** One exit code per error code; `Record` so a new server code fails to compile until it is placed. */
export const EXIT_CODE_BY_ERROR: Record<ClientErrorCode, ExitCode> = {
  invalid_request: EXIT.usage,
  unsupported_tool: EXIT.usage,
  previous_response_not_found: EXIT.usage,
  unauthorized: EXIT.auth,
  forbidden: EXIT.auth,
  not_found: EXIT.other,
  login_required: EXIT.upstream,
  plan_not_supported: EXIT.upstream,
  quota_exhausted: EXIT.quota,
  rate_limited: EXIT.quota,
  no_account_available: EXIT.quota,
  queue_full: EXIT.quota,
  server_busy: EXIT.quota,
  body_too_large: EXIT.usage,
  headers_too_large: EXIT.usage,
  body_timeout: EXIT.other,
  upstream_failed: EXIT.upstream,
  upstream_timeout: EXIT.upstream,
  upstream_refused: EXIT.upstream,
  upstream_blocked: EXIT.upstream,
  backend_unavailable: EXIT.upstream,
  canceled: EXIT.other,
  interrupted: EXIT.other,
  internal: EXIT.other,
  unreachable: EXIT.unreachable,
};

export const EXIT_CODE_HELP = `Exit codes:
  0  ok
  1  other failure (not found, canceled, internal)
  2  usage or configuration (bad flag, invalid request, key file too open, --api-key given)
  3  authentication (missing or wrong key, forbidden, admin login failed)
  4  quota or rate limit (quota_exhausted, rate_limited, no_account_available, queue_full, server_busy)
  5  upstream or backend (refused prompt, upstream failure or timeout, Codex login unusable)
  6  server unreachable
  7  output file exists (use --force or another -o)
  130 interrupted (Ctrl-C); the server job is canceled`;

/** An error the CLI reports with its own message and exit code. */
export class CliError extends Error {
  override readonly name = "CliError";
  readonly exitCode: ExitCode;

  constructor(exitCode: ExitCode, message: string) {
    super(message);
    this.exitCode = exitCode;
  }
}

export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof CliError) return error.exitCode;
  if (isCodexImgClientError(error)) return EXIT_CODE_BY_ERROR[error.code];
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === "string" && code in EXIT_CODE_BY_ERROR) {
    // A CodexImgError of core (the --local path) has the same codes.
    return EXIT_CODE_BY_ERROR[code as ClientErrorCode];
  }
  return EXIT.other;
}
