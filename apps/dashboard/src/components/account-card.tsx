"use client";

import type { ReactNode } from "react";
import type { AccountOverview } from "@/lib/api-types";
import { formatCount, formatRatio } from "@/lib/format-number";
import { formatRelative } from "@/lib/format-time";
import { useNow } from "@/lib/use-now";
import { AccountStateLabel } from "./account-state-label";
import { QuotaWindowBar } from "./quota-window-bar";
import { TokenFreshness } from "./token-freshness";
import { panelClass } from "./ui-classes";

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="flex justify-between gap-2">
      <dt className="text-zinc-500">{label}</dt>
      <dd className="text-right tabular-nums">{children}</dd>
    </div>
  );
}

/**
 * One Codex account: who it is, how fresh its login is, quota left, what it is doing and has done. It
 * ticks every second for its countdowns, so only the cards re-render, not the whole overview.
 */
export function AccountCard({ account }: { account: AccountOverview }) {
  const now = useNow();
  const { login, quota } = account;
  const plan = login?.plan ?? quota?.planType ?? null;
  return (
    <article data-testid="account-card" aria-label={`Account ${account.label}`} className={panelClass}>
      <header className="flex flex-wrap items-start justify-between gap-2">
        <div>
          <h3 className="font-semibold">{account.label}</h3>
          <p className="text-xs text-zinc-500">
            {plan ? `${plan} plan` : "plan unknown"}
            {login?.accountIdShort ? ` · account ${login.accountIdShort}…` : ""}
            {login?.email ? ` · ${login.email}` : ""}
          </p>
        </div>
        <AccountStateLabel account={account} />
      </header>

      <dl className="mt-3 space-y-1 text-sm">
        <Fact label="Token">{login ? <TokenFreshness login={login} now={now} /> : "not a Codex login"}</Fact>
        <Fact label="Images 5 h / 24 h / 48 h">
          {formatCount(account.images.h5)} / {formatCount(account.images.h24)} /{" "}
          {formatCount(account.images.h48)}
        </Fact>
        <Fact label="30 days: requests / succeeded / failed">
          {formatCount(account.last30d.requests)} / {formatCount(account.last30d.succeeded)} /{" "}
          {formatCount(account.last30d.failed)}
        </Fact>
        <Fact label="Success rate 24 h">{formatRatio(account.successRate24h)}</Fact>
      </dl>

      {login?.error ? <p className="mt-2 text-xs text-red-700 dark:text-red-400">{login.error}</p> : null}

      <div className="mt-3 space-y-2">
        {quota && quota.windows.length > 0 ? (
          <>
            {quota.windows.map((window) => (
              <QuotaWindowBar key={window.name} window={window} now={now} />
            ))}
            <p className="text-xs text-zinc-500">
              quota {quota.source === "poll" ? "read from the usage endpoint" : "seen on a reply"}{" "}
              {formatRelative(quota.observedAt, now)}
            </p>
          </>
        ) : (
          <p className="text-xs text-zinc-500">No quota reported yet.</p>
        )}
        {account.quotaPoll?.error ? (
          <p className="text-xs text-amber-700 dark:text-amber-400">
            Usage poll failed {formatRelative(account.quotaPoll.at, now)}: {account.quotaPoll.error}
          </p>
        ) : null}
      </div>

      {account.lastError ? (
        <p className="mt-2 text-xs text-zinc-600 dark:text-zinc-400">
          Last error {formatRelative(account.lastError.at, now)}: <code>{account.lastError.code}</code>{" "}
          {account.lastError.message}
        </p>
      ) : null}
    </article>
  );
}
