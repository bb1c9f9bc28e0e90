import {
  CodexImgError,
  type CodexOsInfo,
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

/** Usage reads `doctor` has in flight at once: a few homes are read together, many are not a burst. */
const QUOTA_READS_AT_ONCE = 4;

/**
 * Sets `quota` on each usable account: its usage windows read now with the token on disk, at most
 * `QUOTA_READS_AT_ONCE` at a time, with one client description (the OS does not change between
 * accounts) and one connection pool for all of them.
 */
export async function readAccountQuotas(
  accounts: readonly PreflightAccount[],
  config: Config,
): Promise<void> {
  const usable = accounts.filter((account) => account.usable);
  if (usable.length === 0) return;
  const read = { config, osInfo: detectCodexOsInfo(), fetch: createExactFetch() };
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let account = usable[next++]; account; account = usable[next++]) {
      account.quota = await readAccountQuota(account.home, read);
    }
  };
  await Promise.all(Array.from({ length: Math.min(QUOTA_READS_AT_ONCE, usable.length) }, worker));
}

/**
 * One account's usage windows with the token on disk, as the server's poll reads them; an expired or
 * refused token is reported, not refreshed (doctor changes nothing), and nothing here is fatal.
 */
async function readAccountQuota(
  home: string,
  read: { config: Config; osInfo: CodexOsInfo; fetch: typeof fetch },
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
      baseUrl: usageBaseUrl(read.config.codexBaseUrl),
      client: { version: read.config.codexVersion, osInfo: read.osInfo },
      fetch: read.fetch,
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
