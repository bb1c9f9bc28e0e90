"use client";

import type { ReactNode } from "react";
import type { CodexHomeView } from "@/lib/api-types";
import { useNow } from "@/lib/use-now";
import { TokenFreshness } from "./token-freshness";
import { panelClass } from "./ui-classes";

const NEEDS: Record<NonNullable<CodexHomeView["needs"]>, ReactNode> = {
  login: (
    <>
      Needs a login: on the server, run <code className="font-mono">codex login</code> with{" "}
      <code className="font-mono">CODEX_HOME</code> set to this home, then restart.
    </>
  ),
  refresh: "Its token has expired: it is refreshed on first use once this home serves (or by keep-fresh).",
};

/** A configured Codex home the server does not use (the demo backend serves), and what it needs. */
export function CodexHomeCard({ home }: { home: CodexHomeView }) {
  const now = useNow();
  const { login } = home;
  return (
    <article data-testid="codex-home-card" aria-label={`Codex home ${home.label}`} className={panelClass}>
      <h3 className="font-semibold">{home.label}</h3>
      <p className="text-xs text-zinc-500">
        {login.plan ? `${login.plan} plan` : "plan unknown"}
        {login.email ? ` · ${login.email}` : ""} · not serving
      </p>
      <p className="mt-2 text-sm">
        Token: <TokenFreshness login={login} now={now} />
      </p>
      <p data-testid="codex-home-needs" className="mt-2 text-sm">
        {home.needs
          ? NEEDS[home.needs]
          : "Usable: restart the server to serve with it instead of the demo backend."}
      </p>
    </article>
  );
}
