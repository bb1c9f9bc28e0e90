import { CODEX_CLIENT_ID } from "../auth/token-refresh.js";
import { mintFakeTokens } from "./codex-home-fixture.js";
import { sendJson } from "./fake-upstream.js";
import type { FakeHandler, RecordedRequest } from "./fake-upstream-types.js";

/** Who a refresh token belongs to; new tokens minted from it keep these. */
export interface FakeTokenOwner {
  accountId?: string;
  email?: string;
  plan?: string;
}

/** What the next refresh request should meet (consumed in order, one per request). */
export interface FakeTokenStep {
  /** Wait this long (real time) before answering. */
  delayMs?: number;
  /**
   * Answer with an error instead of rotating: the permanent codes answer 401 (`invalid_grant` 400 in
   * the OAuth shape) and spend the token; `server_error` answers 500 and leaves it usable.
   */
  fail?: "invalid_grant" | "refresh_token_expired" | "refresh_token_invalidated" | "server_error";
  /** Leave these out of a successful reply (the client must keep the old values). */
  omit?: Array<"id_token" | "refresh_token">;
}

export interface FakeTokenEndpointOptions {
  /**
   * Accept a refresh token the endpoint has never seen (one minted by `createCodexHome` before the
   * fake existed), once, as if it had issued it. Default true. With false, only tokens it issued or
   * that a test `trust`ed are accepted; others answer 401 `refresh_token_invalidated`.
   */
  acceptUnknownTokens?: boolean;
  /** Lifetime of minted access tokens, seconds. Default 10 days. */
  accessTokenExpiresInSeconds?: number;
  /** Epoch ms used to mint tokens (pass a ManualClock's `now`). Default `Date.now`. */
  now?: () => number;
}

export interface FakeTokenRequest {
  /** `json` or `form`. */
  encoding: "json" | "form" | "other";
  clientId?: string;
  grantType?: string;
  refreshToken?: string;
  status: number;
}

export interface FakeTokenReuse {
  refreshToken: string;
  /** Epoch ms (real time). */
  at: number;
}

export interface FakeTokenEndpoint {
  /** Answers `POST …/oauth/token`; mount it on `startFakeUpstreamServer`. */
  handler: FakeHandler;
  /** Successful rotations so far. */
  readonly refreshes: number;
  /** Every refresh request, in order. */
  readonly requests: readonly FakeTokenRequest[];
  /** Every use of an already spent refresh token. A correct client keeps this empty. */
  readonly reuses: readonly FakeTokenReuse[];
  /** Registers a refresh token issued "before", with its owner so rotated tokens keep the account. */
  trust(refreshToken: string, owner?: FakeTokenOwner): void;
  /** Queues behaviour for the next refresh requests. */
  script(...steps: FakeTokenStep[]): void;
  /** The newest tokens issued for an account, if any. */
  latest(accountId: string): { accessToken: string; refreshToken: string; idToken: string } | undefined;
}

interface IssuedToken {
  owner: FakeTokenOwner;
  spent: boolean;
}

/**
 * A fake of auth.openai.com's token endpoint that behaves like the real one where it matters for
 * safety: refresh tokens are single-use and rotate, and spending one twice answers 401
 * `refresh_token_reused` (and is recorded in `reuses`).
 */
export function createFakeTokenEndpoint(options: FakeTokenEndpointOptions = {}): FakeTokenEndpoint {
  const acceptUnknown = options.acceptUnknownTokens ?? true;
  const now = options.now ?? Date.now;
  const issued = new Map<string, IssuedToken>();
  const latestByAccount = new Map<string, { accessToken: string; refreshToken: string; idToken: string }>();
  const requests: FakeTokenRequest[] = [];
  const reuses: FakeTokenReuse[] = [];
  const steps: FakeTokenStep[] = [];
  let refreshes = 0;

  const answer = (
    res: Parameters<FakeHandler>[1],
    entry: Omit<FakeTokenRequest, "status">,
    status: number,
    body: unknown,
  ): true => {
    requests.push({ ...entry, status });
    sendJson(res, status, body);
    return true;
  };

  const handler: FakeHandler = async (request, res) => {
    const pathname = new URL(request.url, "http://fake").pathname;
    if (!pathname.endsWith("/oauth/token")) return false;
    if (request.method !== "POST") {
      sendJson(res, 405, { error: "method_not_allowed" });
      return true;
    }
    const { encoding, fields } = readFields(request);
    const entry = {
      encoding,
      ...(fields.client_id ? { clientId: fields.client_id } : {}),
      ...(fields.grant_type ? { grantType: fields.grant_type } : {}),
      ...(fields.refresh_token ? { refreshToken: fields.refresh_token } : {}),
    };
    const step = steps.shift() ?? {};
    if (step.delayMs) await new Promise((resolve) => setTimeout(resolve, step.delayMs));

    if (fields.client_id !== CODEX_CLIENT_ID) {
      return answer(res, entry, 401, { error: "invalid_client", error_description: "Unknown client." });
    }
    if (fields.grant_type !== "refresh_token") {
      return answer(res, entry, 400, { error: "unsupported_grant_type" });
    }
    const refreshToken = fields.refresh_token;
    if (!refreshToken) {
      return answer(res, entry, 400, {
        error: "invalid_request",
        error_description: "refresh_token missing",
      });
    }
    let token = issued.get(refreshToken);
    if (!token && acceptUnknown && refreshToken.startsWith("rt_")) {
      token = { owner: {}, spent: false };
      issued.set(refreshToken, token);
    }
    if (!token) {
      return answer(res, entry, 401, {
        error: { code: "refresh_token_invalidated", message: "Your refresh token has been invalidated." },
      });
    }
    if (token.spent) {
      reuses.push({ refreshToken, at: Date.now() });
      return answer(res, entry, 401, {
        error: {
          code: "refresh_token_reused",
          message: "Your refresh token has already been used to generate a new access token.",
        },
      });
    }

    if (step.fail === "server_error") return answer(res, entry, 500, { error: "server_error" });
    if (step.fail === "invalid_grant") {
      token.spent = true;
      return answer(res, entry, 400, {
        error: "invalid_grant",
        error_description: "Refresh token is not valid.",
      });
    }
    if (step.fail) {
      token.spent = true;
      return answer(res, entry, 401, { error: { code: step.fail, message: "Please sign in again." } });
    }

    token.spent = true;
    refreshes += 1;
    const minted = mintFakeTokens({
      ...token.owner,
      now: now(),
      ...(options.accessTokenExpiresInSeconds === undefined
        ? {}
        : { accessTokenExpiresInSeconds: options.accessTokenExpiresInSeconds }),
    });
    const owner = { ...token.owner, accountId: minted.accountId };
    issued.set(minted.refreshToken, { owner, spent: false });
    latestByAccount.set(minted.accountId, {
      accessToken: minted.accessToken,
      refreshToken: minted.refreshToken,
      idToken: minted.idToken,
    });
    const omit = new Set(step.omit ?? []);
    return answer(res, entry, 200, {
      access_token: minted.accessToken,
      ...(omit.has("id_token") ? {} : { id_token: minted.idToken }),
      ...(omit.has("refresh_token") ? {} : { refresh_token: minted.refreshToken }),
      token_type: "Bearer",
      expires_in: options.accessTokenExpiresInSeconds ?? 10 * 24 * 3600,
      scope: "openid profile email offline_access",
    });
  };

  return {
    handler,
    get refreshes() {
      return refreshes;
    },
    requests,
    reuses,
    trust(refreshToken, owner = {}) {
      issued.set(refreshToken, { owner, spent: false });
    },
    script(...more) {
      steps.push(...more);
    },
    latest(accountId) {
      return latestByAccount.get(accountId);
    },
  };
}

function readFields(request: RecordedRequest): {
  encoding: FakeTokenRequest["encoding"];
  fields: Record<string, string | undefined>;
} {
  const type = String(request.headers["content-type"] ?? "");
  if (type.includes("application/x-www-form-urlencoded")) {
    return {
      encoding: "form",
      fields: Object.fromEntries(new URLSearchParams(request.body.toString("utf8"))),
    };
  }
  if (typeof request.json === "object" && request.json !== null) {
    const fields: Record<string, string | undefined> = {};
    for (const [key, value] of Object.entries(request.json))
      if (typeof value === "string") fields[key] = value;
    return { encoding: "json", fields };
  }
  return { encoding: "other", fields: {} };
}
