import type { CodexCredentials } from "../../types.js";
import {
  CODEX_CLI_VERSION,
  CODEX_DEFAULT_REASONING_EFFORT,
  CODEX_HEADERS,
  CODEX_ORIGINATOR,
  CODEX_TURN_CONTEXT,
} from "./constants.js";
import { uuidV7 } from "./uuid-v7.js";

/**
 * What the User-Agent says about the machine. Passed in (core reads no OS facts itself); the node
 * helper `detectCodexOsInfo()` fills it from the OS release the way the official client does.
 */
export interface CodexOsInfo {
  /** Distribution or system name: `Debian`, `Ubuntu`, `Mac OS`, `Windows`, … */
  os: string;
  /** Its version as `major.minor.patch` (`12.0.0`), not the kernel release. */
  osVersion: string;
  /** `x86_64`, `arm64`, … */
  arch: string;
  /** Terminal name as the official client reports it. Default `xterm`. */
  terminal?: string;
}

export const DEFAULT_CODEX_OS_INFO: CodexOsInfo = {
  os: "Linux",
  osVersion: "Unknown",
  arch: "x86_64",
  terminal: "xterm",
};

/** Who we say we are: the one CLI version impersonated everywhere, and the machine. */
export interface CodexClientIdentity {
  /** The CLI version (`version` header, User-Agent, turn metadata). Default `CODEX_CLI_VERSION`. */
  version: string;
  osInfo: CodexOsInfo;
}

export const DEFAULT_CODEX_CLIENT: CodexClientIdentity = {
  version: CODEX_CLI_VERSION,
  osInfo: DEFAULT_CODEX_OS_INFO,
};

/** Ordered header pairs: the official client's order is part of what it looks like on the wire. */
export type OrderedHeaders = Array<[string, string]>;

/**
 * `codex_exec/<version> (<os> <os version>; <arch>) <terminal>`, plus ` (codex_exec; <version>)` on the
 * requests of a turn (images, responses, a 401-triggered refresh), as upstream.md Appendix A records.
 */
export function formatCodexUserAgent(
  client: CodexClientIdentity = DEFAULT_CODEX_CLIENT,
  options: { turnSuffix?: boolean } = {},
): string {
  const { version, osInfo } = client;
  const base = `${CODEX_ORIGINATOR}/${version} (${osInfo.os} ${osInfo.osVersion}; ${osInfo.arch}) ${osInfo.terminal ?? "xterm"}`;
  return options.turnSuffix === false ? base : `${base} (${CODEX_ORIGINATOR}; ${version})`;
}

/** The ids of one turn: a thread (session) and a turn inside it, both UUIDv7, and when it started. */
export interface CodexTurnIds {
  threadId: string;
  turnId: string;
  /** The `/responses` turn's `context_window_id`. */
  contextWindowId: string;
  startedAtMs: number;
}

export function newCodexTurn(nowMs: number = Date.now()): CodexTurnIds {
  return {
    threadId: uuidV7(nowMs),
    contextWindowId: uuidV7(nowMs),
    turnId: uuidV7(nowMs),
    startedAtMs: nowMs,
  };
}

export interface CodexTurnHeadersInput {
  credentials: CodexCredentials;
  client: CodexClientIdentity;
  turn: CodexTurnIds;
  /** The chat model of the turn (`model` in the metadata, `x-codex-routing-hint`). */
  model: string;
  /** Default `low`. */
  reasoningEffort?: string;
}

/** Header order the CLI uses after the route-specific ones. */
function authHeaders(input: CodexTurnHeadersInput): OrderedHeaders {
  return [
    ["authorization", `Bearer ${input.credentials.accessToken}`],
    [CODEX_HEADERS.accountId, input.credentials.accountId],
  ];
}

/**
 * `POST {base}/images/generations|edits`: exactly the headers and order of the CLI's image tool
 * (upstream.md Appendix A), `accept: *\/*`, no session header.
 */
export function buildNativeImageHeaders(input: CodexTurnHeadersInput): OrderedHeaders {
  const { turn, client } = input;
  const metadata = {
    session_id: turn.threadId,
    thread_id: turn.threadId,
    reasoning_effort: input.reasoningEffort ?? CODEX_DEFAULT_REASONING_EFFORT,
    turn_id: turn.turnId,
    model: input.model,
    ...CODEX_TURN_CONTEXT,
    turn_started_at_unix_ms: turn.startedAtMs,
    codex_version: client.version,
  };
  return [
    [CODEX_HEADERS.version, client.version],
    [CODEX_HEADERS.imageTurnId, turn.turnId],
    [CODEX_HEADERS.turnMetadata, JSON.stringify(metadata)],
    ...authHeaders(input),
    ["content-type", "application/json"],
    [CODEX_HEADERS.originator, CODEX_ORIGINATOR],
    ["user-agent", formatCodexUserAgent(client)],
    ["accept", "*/*"],
  ];
}

export interface CodexResponsesTurn extends CodexTurnHeadersInput {
  /** Stable id of this installation (`installation_id`), a UUID. */
  installationId: string;
}

/** The `x-codex-turn-metadata` of a `/responses` turn; also sent inside `client_metadata`. */
export function responsesTurnMetadata(input: CodexResponsesTurn): string {
  const { turn } = input;
  const windowId = `${turn.threadId}:0`;
  return JSON.stringify({
    installation_id: input.installationId,
    session_id: turn.threadId,
    thread_id: turn.threadId,
    agent_name: "/root",
    turn_id: turn.turnId,
    window_id: windowId,
    window_number: 0,
    context_window_id: turn.contextWindowId,
    request_kind: "turn",
    history_initialization: "new",
    root_turn_id: turn.turnId,
    ...CODEX_TURN_CONTEXT,
    turn_started_at_unix_ms: turn.startedAtMs,
    analytics_enabled: true,
    model: input.model,
    reasoning_effort: input.reasoningEffort ?? CODEX_DEFAULT_REASONING_EFFORT,
  });
}

/**
 * `POST {base}/responses`: the CLI's turn headers in its order (upstream.md Appendix A). The body goes
 * out zstd-framed, as the CLI's does.
 */
export function buildResponsesHeaders(input: CodexResponsesTurn): OrderedHeaders {
  const { turn, client } = input;
  return [
    [CODEX_HEADERS.version, client.version],
    [CODEX_HEADERS.betaFeatures, "remote_compaction_v2"],
    [CODEX_HEADERS.windowId, `${turn.threadId}:0`],
    [CODEX_HEADERS.turnMetadata, responsesTurnMetadata(input)],
    [CODEX_HEADERS.routingHint, `model=${input.model}`],
    [CODEX_HEADERS.clientRequestId, turn.threadId],
    [CODEX_HEADERS.sessionId, turn.threadId],
    [CODEX_HEADERS.threadId, turn.threadId],
    ["accept", "text/event-stream"],
    ["content-encoding", "zstd"],
    ["content-type", "application/json"],
    ...authHeaders(input),
    [CODEX_HEADERS.originator, CODEX_ORIGINATOR],
    ["user-agent", formatCodexUserAgent(client)],
  ];
}

/** The `client_metadata` body field of a `/responses` turn (the CLI mirrors its ids there). */
export function responsesClientMetadata(input: CodexResponsesTurn): Record<string, string> {
  const { turn } = input;
  return {
    "x-codex-installation-id": input.installationId,
    session_id: turn.threadId,
    thread_id: turn.threadId,
    turn_id: turn.turnId,
    root_turn_id: turn.turnId,
    "x-codex-window-id": `${turn.threadId}:0`,
    mcp_attribution: '{"status":"none"}',
    "x-codex-turn-metadata": responsesTurnMetadata(input),
    guardian_credits_requested: "true",
  };
}

/**
 * `GET {chatgpt base}/wham/*` (the usage poll's `wham/usage`): the CLI's `wham` requests, recorded on
 * `wham/accounts/check` (upstream.md Appendix A): the User-Agent without the turn suffix first, then the
 * bearer and account id, `accept: *\/*`; no `originator` and no `version`.
 */
export function buildWhamHeaders(
  credentials: CodexCredentials,
  client: CodexClientIdentity = DEFAULT_CODEX_CLIENT,
): OrderedHeaders {
  return [
    ["user-agent", formatCodexUserAgent(client, { turnSuffix: false })],
    ["authorization", `Bearer ${credentials.accessToken}`],
    [CODEX_HEADERS.accountId, credentials.accountId],
    ["accept", "*/*"],
  ];
}

/**
 * `POST /oauth/token`: no Authorization; the User-Agent carries the turn suffix only for a refresh that
 * a 401 triggered (upstream.md Appendix A).
 */
export function buildRefreshHeaders(
  client: CodexClientIdentity,
  reason: "proactive_expiry" | "unauthorized_recovery",
): OrderedHeaders {
  return [
    ["content-type", "application/json"],
    [CODEX_HEADERS.originator, CODEX_ORIGINATOR],
    ["user-agent", formatCodexUserAgent(client, { turnSuffix: reason === "unauthorized_recovery" })],
    ["accept", "*/*"],
  ];
}
