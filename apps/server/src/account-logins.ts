import type { AccountPool, CodexHomeCredentials, CodexHomeStatus } from "@codex-img/core";

/**
 * Reads each Codex home's login for the dashboard (plan, account id prefix, token expiry), without
 * refreshing anything. Undefined when there is no pool; accounts whose credentials are not a Codex home
 * are left out.
 */
export function accountLogins(
  pool: AccountPool | undefined,
): (() => Promise<Record<string, CodexHomeStatus>>) | undefined {
  if (!pool) return undefined;
  return async () => {
    const entries = await Promise.all(
      pool.accounts().map(async (account) => {
        const credentials = account.credentials as Partial<CodexHomeCredentials> | undefined;
        if (typeof credentials?.summary !== "function") return undefined;
        return [account.label, await credentials.summary()] as const;
      }),
    );
    return Object.fromEntries(entries.filter((entry) => entry !== undefined));
  };
}
