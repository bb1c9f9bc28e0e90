import type { AccountOverview } from "@/lib/api-types";
import { formatRelative, formatTime } from "@/lib/format-time";
import { levelTextClass } from "./level-colors";

type Login = NonNullable<AccountOverview["login"]>;

/** When the access token runs out, coloured by the server's level (green > 3 days, amber, red ≤ 1 day). */
export function TokenFreshness({ login, now }: { login: Login; now: number }) {
  let text: string;
  if (login.state === "login_required") text = "login required";
  else if (login.expiresAt === null) text = "expiry unknown";
  else if (login.expiresAt <= now || login.freshness === "expired")
    text = `expired ${formatRelative(login.expiresAt, now)}`;
  else text = `expires ${formatRelative(login.expiresAt, now)}`;
  return (
    <span
      className={levelTextClass[login.level]}
      title={login.expiresAt === null ? undefined : formatTime(login.expiresAt)}
    >
      {text}
      {login.basis === "last_refresh" ? " (estimated)" : ""}
    </span>
  );
}
