import {
  CodexImgError,
  type CredentialProvider,
  createExactFetch,
  detectCodexOsInfo,
  fetchUsageSnapshot,
  readCodexLogin,
  toCodexImgError,
} from "@codex-img/core";
import type { Config } from "./config/settings.js";
import { usageBaseUrl } from "./create-backend.js";
import type { PreflightAccount } from "./preflight-report.js";

/**
 * One account's usage windows with the token on disk, as the server's poll reads them; an expired or
 * refused token is reported, not refreshed (doctor changes nothing), and nothing here is fatal.
 */
export async function readAccountQuota(
  home: string,
  config: Config,
): Promise<NonNullable<PreflightAccount["quota"]>> {
  try {
    const login = await readCodexLogin(home);
    const accessToken = login.tokens.accessToken ?? "";
    const credentials: CredentialProvider = {
      get: async () => ({ accessToken, accountId: login.accountId }),
      recoverFromUnauthorized: async () => {
        throw new CodexImgError(
          "login_required",
          "the stored token was refused (the server refreshes it on first use)",
        );
      },
    };
    // What the server's poll sends: the CLI's wham headers, in its order.
    const snapshot = await fetchUsageSnapshot({
      credentials,
      baseUrl: usageBaseUrl(config.codexBaseUrl),
      client: { version: config.codexVersion, osInfo: detectCodexOsInfo() },
      fetch: createExactFetch(),
      signal: AbortSignal.timeout(10_000),
    });
    return {
      ...(snapshot.primary ? { primary: snapshot.primary } : {}),
      ...(snapshot.secondary ? { secondary: snapshot.secondary } : {}),
    };
  } catch (error) {
    return { error: toCodexImgError(error, "upstream_failed").message };
  }
}
