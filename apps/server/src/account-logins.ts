import {
  type AccountPool,
  type CodexHomeCredentials,
  type CodexHomeEntry,
  type CodexHomeStatus,
  createCodexHomeCredentials,
} from "@codex-img/core";

/**
 * Reads each Codex home's login for the dashboard (plan, account id prefix, token expiry), without
 * refreshing anything. With a pool: its accounts (those whose credentials are not a Codex home are left
 * out). Without one (the demo backend): the configured homes, so the owner still sees what each needs.
 */
export function accountLogins(
  pool: AccountPool | undefined,
  homes: readonly CodexHomeEntry[],
): (() => Promise<Record<string, CodexHomeStatus>>) | undefined {
  const sources: Array<{ label: string; credentials: Partial<CodexHomeCredentials> | undefined }> = pool
    ? pool.accounts().map((account) => ({
        label: account.label,
        credentials: account.credentials as Partial<CodexHomeCredentials> | undefined,
      }))
    : homes.map((entry) => ({ label: entry.label, credentials: createCodexHomeCredentials(entry) }));
  if (sources.length === 0) return undefined;
  return async () => {
    const entries = await Promise.all(
      sources.map(async ({ label, credentials }) => {
        if (typeof credentials?.summary !== "function") return undefined;
        return [label, await credentials.summary()] as const;
      }),
    );
    return Object.fromEntries(entries.filter((entry) => entry !== undefined));
  };
}
