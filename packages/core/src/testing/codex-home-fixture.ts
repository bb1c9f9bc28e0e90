import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Claims the fake puts into the tokens of a test login (shapes as in upstream.md §1). */
export interface FakeLoginClaims {
  email?: string;
  /** `chatgpt_plan_type`: plus, pro, free, team, … */
  plan?: string;
  accountId?: string;
  /** Seconds from `now` until the access token expires (negative: already expired). Default 10 days. */
  accessTokenExpiresInSeconds?: number;
  /** Epoch ms used as "now" for `iat`/`exp`. Default `Date.now()`. */
  now?: number;
}

/** An unsigned-but-well-formed JWT (clients never check the signature). */
export function fakeJwt(payload: Record<string, unknown>): string {
  const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${b64({ alg: "RS256", typ: "JWT", kid: "fake" })}.${b64(payload)}.${Buffer.from(`sig-${randomUUID()}`).toString("base64url")}`;
}

export interface FakeTokens {
  idToken: string;
  accessToken: string;
  refreshToken: string;
  accountId: string;
}

/** Mints an id/access/refresh token set for a ChatGPT login. */
export function mintFakeTokens(claims: FakeLoginClaims = {}): FakeTokens {
  const now = Math.floor((claims.now ?? Date.now()) / 1000);
  const accountId = claims.accountId ?? `acct-${randomUUID()}`;
  const email = claims.email ?? "user@example.com";
  const auth = {
    chatgpt_plan_type: claims.plan ?? "plus",
    chatgpt_account_id: accountId,
    chatgpt_user_id: "user-1",
  };
  const exp = now + (claims.accessTokenExpiresInSeconds ?? 10 * 24 * 3600);
  return {
    idToken: fakeJwt({ email, "https://api.openai.com/auth": auth, iat: now, exp: now + 3600 }),
    accessToken: fakeJwt({
      "https://api.openai.com/profile": { email },
      "https://api.openai.com/auth": auth,
      iat: now,
      exp,
    }),
    refreshToken: `rt_${randomUUID().replaceAll("-", "")}`,
    accountId,
  };
}

export interface CodexHomeFixture extends FakeTokens {
  home: string;
  authPath: string;
  /** Removes the folder. */
  cleanup(): Promise<void>;
}

export interface CreateCodexHomeOptions extends FakeLoginClaims {
  /** Parent folder; default the OS temp folder. */
  parent?: string;
  /**
   * Which auth.json to write (upstream.md §1): a current ChatGPT login (default), an old file without
   * `auth_mode` and `account_id`, an API-key-only login, or no file at all (keyring mode / never logged in).
   */
  variant?: "chatgpt" | "legacy" | "apikey" | "missing";
  /** `last_refresh` as written (writers differ: `Z`, `+00:00`, fractions). Default now in `Z` form. */
  lastRefresh?: string;
  /** Extra files to write into the home, e.g. `{ "version.json": "{...}" }`. */
  files?: Record<string, string>;
}

/** A temporary Codex home with an auth.json like `codex login` writes. */
export async function createCodexHome(options: CreateCodexHomeOptions = {}): Promise<CodexHomeFixture> {
  const home = await mkdtemp(join(options.parent ?? tmpdir(), "codex-home-"));
  await mkdir(home, { recursive: true });
  const tokens = mintFakeTokens(options);
  const authPath = join(home, "auth.json");
  const variant = options.variant ?? "chatgpt";
  const lastRefresh = options.lastRefresh ?? new Date(options.now ?? Date.now()).toISOString();
  const content =
    variant === "chatgpt"
      ? {
          auth_mode: "chatgpt",
          OPENAI_API_KEY: null,
          tokens: {
            id_token: tokens.idToken,
            access_token: tokens.accessToken,
            refresh_token: tokens.refreshToken,
            account_id: tokens.accountId,
          },
          last_refresh: lastRefresh,
        }
      : variant === "legacy"
        ? {
            OPENAI_API_KEY: null,
            tokens: {
              id_token: tokens.idToken,
              access_token: tokens.accessToken,
              refresh_token: tokens.refreshToken,
            },
            last_refresh: lastRefresh,
          }
        : variant === "apikey"
          ? { auth_mode: "apikey", OPENAI_API_KEY: "sk-test-platform-key-0123456789abcdef", tokens: null }
          : undefined;
  if (content) await writeFile(authPath, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  for (const [name, text] of Object.entries(options.files ?? {})) await writeFile(join(home, name), text);
  return { ...tokens, home, authPath, cleanup: () => rm(home, { recursive: true, force: true }) };
}
