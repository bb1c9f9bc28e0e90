import type { Config } from "./config/settings.js";
import type { PreflightAccount } from "./preflight-report.js";

/** What listening beyond loopback exposes: public image URLs, unreachable URLs, plain http. */
export function exposureWarnings(config: Config, loopback: boolean): string[] {
  if (loopback) return [];
  const warnings: string[] = [];
  if (!config.signedUrls) {
    warnings.push(
      `The server listens on ${config.host} and signedUrls is off: anyone with an image URL can fetch it.`,
    );
  }
  if (config.publicBaseUrl === undefined) {
    warnings.push(
      `publicBaseUrl is not set while listening on ${config.host}: image URLs will name http://${config.host}:${config.port}, which callers may not reach.`,
    );
  } else if (config.publicBaseUrl.startsWith("http://")) {
    warnings.push(
      "publicBaseUrl is plain http: passwords and session cookies cross the network unencrypted; put TLS in front.",
    );
  }
  return warnings;
}

/** Homes logged in to one ChatGPT account: they share its quota. */
export function sharedAccountWarnings(accounts: readonly PreflightAccount[]): string[] {
  const byAccount = new Map<string, string[]>();
  for (const account of accounts) {
    if (!account.accountIdPrefix || !account.email) continue;
    const key = `${account.accountIdPrefix}|${account.email}`;
    byAccount.set(key, [...(byAccount.get(key) ?? []), account.label]);
  }
  return [...byAccount.values()]
    .filter((labels) => labels.length > 1)
    .map(
      (labels) =>
        `${labels.join(" and ")} are logins of the same ChatGPT account: they share one quota, so they add no capacity.`,
    );
}
