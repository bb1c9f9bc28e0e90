/** Accounts whose Codex login is missing or dead: only the owner can fix that, on the server. */
export function LoginBanner({
  accounts,
}: {
  accounts: ReadonlyArray<{ label: string; home: string | null }>;
}) {
  if (accounts.length === 0) return null;
  return (
    <div
      role="alert"
      data-testid="login-banner"
      className="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-200"
    >
      {accounts.length === 1 ? "This account needs" : "These accounts need"} a new login. On the server, run{" "}
      <code className="font-mono">codex login</code> with <code className="font-mono">CODEX_HOME</code> set
      to:
      <ul className="mt-1 list-disc pl-5">
        {accounts.map((account) => (
          <li key={account.label}>
            <strong>{account.label}</strong>
            {account.home ? (
              <>
                {": "}
                <code className="font-mono">CODEX_HOME={account.home} codex login</code>
              </>
            ) : null}
          </li>
        ))}
      </ul>
    </div>
  );
}
