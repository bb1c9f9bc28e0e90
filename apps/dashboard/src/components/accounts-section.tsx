import type { SystemOverview } from "@/lib/api-types";
import { AccountCard } from "./account-card";
import { CodexHomeCard } from "./codex-home-card";

/** The pool's accounts, then any configured Codex home outside it (all of them in demo mode). */
export function AccountsSection({ overview }: { overview: SystemOverview }) {
  const { accounts, homes } = overview;
  return (
    <section aria-labelledby="accounts-heading" className="space-y-3">
      <h2 id="accounts-heading" className="text-lg font-semibold">
        Accounts
      </h2>
      {accounts.length === 0 && homes.length === 0 ? (
        <p className="text-sm text-zinc-500">
          No Codex homes are configured{overview.demo ? ": the demo backend runs without any." : "."}
        </p>
      ) : null}
      {accounts.length > 0 ? (
        <div className="grid gap-3 md:grid-cols-2 xl:grid-cols-3">
          {accounts.map((account) => (
            <AccountCard key={account.label} account={account} />
          ))}
        </div>
      ) : null}
      {homes.length > 0 ? (
        <>
          <p className="text-sm text-zinc-500">
            {overview.demo
              ? "The demo backend is serving; these Codex homes are configured but not in use:"
              : "Configured Codex homes not in use:"}
          </p>
          <div className="grid gap-3 md:grid-cols-2 xl:grid-cols-3">
            {homes.map((home) => (
              <CodexHomeCard key={home.label} home={home} />
            ))}
          </div>
        </>
      ) : null}
    </section>
  );
}
