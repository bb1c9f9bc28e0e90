import type { CodexCredentials } from "../../types.js";
import { CODEX_HEADERS, CODEX_ORIGINATOR } from "./constants.js";

/**
 * What the User-Agent says about the machine. Passed in (core reads no OS facts itself); the node
 * helper `detectCodexOsInfo()` fills it from `node:os`.
 */
export interface CodexOsInfo {
  /** `Linux`, `Mac OS`, `Windows`, … */
  os: string;
  osVersion: string;
  /** `x86_64`, `arm64`, … */
  arch: string;
  /** Terminal name as the official client reports it; default `unknown`. */
  terminal?: string;
}

export const DEFAULT_CODEX_OS_INFO: CodexOsInfo = {
  os: "Linux",
  osVersion: "unknown",
  arch: "x86_64",
  terminal: "unknown",
};

/** `codex_cli_rs/<version> (<os> <os version>; <arch>) <terminal>`, the official client's shape. */
export function formatCodexUserAgent(version: string, info: CodexOsInfo = DEFAULT_CODEX_OS_INFO): string {
  return `${CODEX_ORIGINATOR}/${version} (${info.os} ${info.osVersion}; ${info.arch}) ${info.terminal ?? "unknown"}`;
}

export interface CodexHeadersInput {
  credentials: CodexCredentials;
  version: string;
  userAgent: string;
  /**
   * `native`: `/images/*` (JSON reply, `x-codex-image-turn-id`); `responses`: SSE reply with
   * `session_id` and `x-client-request-id`.
   */
  route: "native" | "responses";
  /** One uuid per call: the image turn id or the session/request id. */
  callId: string;
}

/** The headers the official client sends (upstream.md §2), for one call. */
export function buildCodexHeaders(input: CodexHeadersInput): Record<string, string> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${input.credentials.accessToken}`,
    [CODEX_HEADERS.accountId]: input.credentials.accountId,
    [CODEX_HEADERS.originator]: CODEX_ORIGINATOR,
    "user-agent": input.userAgent,
    [CODEX_HEADERS.version]: input.version,
    "content-type": "application/json",
  };
  if (input.route === "native") {
    headers[CODEX_HEADERS.imageTurnId] = input.callId;
    headers.accept = "application/json";
  } else {
    headers[CODEX_HEADERS.sessionId] = input.callId;
    headers[CODEX_HEADERS.clientRequestId] = input.callId;
    headers.accept = "text/event-stream";
  }
  return headers;
}
