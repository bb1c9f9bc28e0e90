import type { ServerResponse } from "node:http";
import {
  CLOUDFLARE_PAGE,
  type FakeReplyContext,
  replyHeaders,
  unauthorizedBody,
} from "./answer-fake-common.js";
import { answerImages } from "./answer-fake-images.js";
import { answerResponses } from "./answer-fake-responses.js";
import { compareWithCliRecord } from "./cli-request-check.js";
import { FAKE_CLI_MODEL, fakeCliRoutes } from "./fake-cli-routes.js";
import { DEFAULT_FAKE_QUOTA, fakeWhamUsage } from "./fake-codex-quota.js";
import type {
  CliMismatch,
  FakeCodexBackend,
  FakeCodexBackendOptions,
  FakeCodexCall,
  FakeCodexReply,
  FakeQuota,
} from "./fake-codex-types.js";
import { createFakeTokenEndpoint, type FakeTokenEndpoint } from "./fake-token-endpoint.js";
import { headerValue, sendJson, startFakeUpstreamServer } from "./fake-upstream.js";
import type { FakeHandler, RecordedRequest } from "./fake-upstream-types.js";
import { validateImagesRequest, validateResponsesRequest } from "./validate-fake-codex-request.js";

const CODEX_PREFIX = "/backend-api/codex";

/** The model catalog shape the real CLI accepts (upstream.md §5). */
export const FAKE_MODELS_CATALOG = { models: [FAKE_CLI_MODEL] };

/**
 * A loopback fake of the ChatGPT Codex backend (upstream.md §2-§5) that validates requests the way
 * upstream does and answers from a per-route script, so tests cover every success and failure path
 * without the real service.
 */
export async function startFakeCodexBackend(
  options: FakeCodexBackendOptions = {},
): Promise<FakeCodexBackend> {
  const now = options.now ?? Date.now;
  const tokens = createFakeTokenEndpoint(options.tokenEndpoint);
  const calls: FakeCodexCall[] = [];
  const callWaiters: Array<{ count: number; resolve: (calls: FakeCodexCall[]) => void }> = [];
  let origin = "";
  const state = {
    script: { images: [] as FakeCodexReply[], responses: [] as FakeCodexReply[] },
    defaults: {
      images: options.defaults?.images ?? ({ kind: "image" } as FakeCodexReply),
      responses: options.defaults?.responses ?? ({ kind: "image" } as FakeCodexReply),
    },
    quota: { ...DEFAULT_FAKE_QUOTA, ...options.quota },
    quotaByAccount: {} as Record<string, Partial<FakeQuota>>,
    auth: options.auth ?? "any",
  };
  const context = {
    get origin() {
      return origin;
    },
  };

  const ctx: FakeReplyContext = { now, quota: () => state.quota };
  const quotaHeaders = (override: Partial<FakeQuota> = {}): Record<string, string> =>
    replyHeaders(ctx, override);

  /** Checks every backend request the way the Cloudflare front and the API do; true when it answered. */
  const rejectBadClient = (request: RecordedRequest, res: ServerResponse): boolean => {
    if (!headerValue(request.headers.originator)) {
      res.writeHead(403, { "content-type": "text/html; charset=UTF-8", "cf-ray": "8f0000000000-FAKE" });
      res.end(CLOUDFLARE_PAGE);
      return true;
    }
    const bearer = /^Bearer\s+(.+)$/i.exec(headerValue(request.headers.authorization) ?? "")?.[1];
    if (!bearer || (state.auth === "issued" && !isIssuedToken(tokens, bearer, request))) {
      sendJson(res, 401, unauthorizedBody(), quotaHeaders());
      return true;
    }
    return false;
  };

  const startCall = (
    route: "images" | "responses",
    request: RecordedRequest,
    res: ServerResponse,
    reply: FakeCodexReply,
  ): void => {
    let completed = false;
    const closed = new Promise<void>((resolve) => {
      res.on("finish", () => {
        completed = true;
      });
      res.on("close", () => resolve());
    });
    const call: FakeCodexCall = {
      route,
      path: new URL(request.url, "http://fake").pathname,
      reply: reply.kind,
      request,
      closed,
      get completed() {
        return completed;
      },
    };
    calls.push(call);
    for (const waiter of [...callWaiters]) {
      if (calls.length >= waiter.count) {
        callWaiters.splice(callWaiters.indexOf(waiter), 1);
        waiter.resolve([...calls]);
      }
    }
  };

  const imagesHandler: FakeHandler = async (request, res) => {
    const path = new URL(request.url, "http://fake").pathname;
    if (path !== `${CODEX_PREFIX}/images/generations` && path !== `${CODEX_PREFIX}/images/edits`)
      return false;
    if (request.method !== "POST") {
      sendJson(res, 405, { detail: "Method Not Allowed" });
      return true;
    }
    if (rejectBadClient(request, res)) return true;
    const invalid = validateImagesRequest(request, path.endsWith("/edits"));
    if (invalid) {
      sendJson(
        res,
        400,
        { error: { message: invalid, type: "invalid_request_error", param: null, code: null } },
        quotaHeaders(),
      );
      return true;
    }
    const reply = state.script.images.shift() ?? state.defaults.images;
    startCall("images", request, res, reply);
    await answerImages(ctx, request, res, reply);
    return true;
  };

  const responsesHandler: FakeHandler = async (request, res) => {
    const path = new URL(request.url, "http://fake").pathname;
    if (path !== `${CODEX_PREFIX}/responses`) return false;
    if (request.method !== "POST") {
      sendJson(res, 405, { detail: "Method Not Allowed" });
      return true;
    }
    if (rejectBadClient(request, res)) return true;
    const invalid = validateResponsesRequest(request);
    if (invalid) {
      sendJson(res, 400, { detail: invalid }, quotaHeaders());
      return true;
    }
    const reply = state.script.responses.shift() ?? state.defaults.responses;
    startCall("responses", request, res, reply);
    await answerResponses(ctx, request, res, reply);
    return true;
  };

  const infoHandler: FakeHandler = async (request, res) => {
    const url = new URL(request.url, "http://fake");
    if (request.method === "GET" && url.pathname === `${CODEX_PREFIX}/models`) {
      sendJson(res, 200, FAKE_MODELS_CATALOG, { etag: '"fake-models-1"' });
      return true;
    }
    if (request.method === "GET" && url.pathname === "/backend-api/wham/usage") {
      if (!headerValue(request.headers.authorization)) {
        sendJson(res, 401, unauthorizedBody());
        return true;
      }
      const account = headerValue(request.headers["chatgpt-account-id"]) ?? "";
      sendJson(res, 200, fakeWhamUsage({ ...state.quota, ...state.quotaByAccount[account] }, now()));
      return true;
    }
    return false;
  };

  // `origin` is read lazily by the CLI routes: handlers exist before the server listens.
  const cliHandlers = fakeCliRoutes(context);
  const mismatches: CliMismatch[] = [];

  const fidelityHandler: FakeHandler = async (request, res) => {
    if ((options.cliFidelity ?? "enforce") === "off") return false;
    const differences = compareWithCliRecord(request);
    if (differences.length === 0) return false;
    const path = new URL(request.url, "http://fake").pathname;
    mismatches.push({ path, differences });
    sendJson(res, 400, {
      error: {
        message: `request differs from the official CLI's: ${differences.join("; ")}`,
        type: "invalid_request_error",
        code: "cli_mismatch",
        param: null,
      },
    });
    return true;
  };

  const server = await startFakeUpstreamServer({
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    handlers: [
      fidelityHandler,
      ...(options.extraHandlers ?? []),
      tokens.handler,
      ...cliHandlers,
      imagesHandler,
      responsesHandler,
      infoHandler,
    ],
  });
  origin = server.origin;

  return {
    origin,
    baseUrl: `${origin}${CODEX_PREFIX}`,
    chatgptBaseUrl: `${origin}/backend-api/`,
    tokenUrl: `${origin}/oauth/token`,
    requests: server.requests,
    mismatches,
    calls,
    script: state.script,
    get defaults() {
      return state.defaults;
    },
    set defaults(value) {
      state.defaults = value;
    },
    get quota() {
      return state.quota;
    },
    set quota(value) {
      state.quota = value;
    },
    get quotaByAccount() {
      return state.quotaByAccount;
    },
    set quotaByAccount(value) {
      state.quotaByAccount = value;
    },
    get auth() {
      return state.auth;
    },
    set auth(value) {
      state.auth = value;
    },
    tokens,
    waitForCalls(count) {
      if (calls.length >= count) return Promise.resolve([...calls]);
      return new Promise((resolve) => callWaiters.push({ count, resolve }));
    },
    close: () => server.close(),
  };
}

/** `issued` mode: the bearer must be the newest access token the token endpoint issued for its account. */
function isIssuedToken(tokens: FakeTokenEndpoint, bearer: string, request: RecordedRequest): boolean {
  const claimAccount = jwtAccountId(bearer);
  const headerAccount = headerValue(request.headers["chatgpt-account-id"]);
  for (const account of [claimAccount, headerAccount]) {
    if (account && tokens.latest(account)?.accessToken === bearer) return true;
  }
  return false;
}

function jwtAccountId(token: string): string | undefined {
  try {
    const payload = JSON.parse(
      Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"),
    ) as Record<string, unknown>;
    const auth = payload["https://api.openai.com/auth"] as { chatgpt_account_id?: unknown } | undefined;
    return typeof auth?.chatgpt_account_id === "string" ? auth.chatgpt_account_id : undefined;
  } catch {
    return undefined;
  }
}
