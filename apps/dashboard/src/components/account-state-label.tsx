import type { AccountOverview } from "@/lib/api-types";
import { formatTime } from "@/lib/format-time";
import { badgeClass } from "./ui-classes";

const STATE_CLASS: Record<AccountOverview["state"], string> = {
  available: "bg-emerald-100 text-emerald-900 dark:bg-emerald-900 dark:text-emerald-100",
  busy: "bg-sky-100 text-sky-900 dark:bg-sky-900 dark:text-sky-100",
  cooling_down: "bg-amber-100 text-amber-900 dark:bg-amber-900 dark:text-amber-100",
  dead: "bg-red-100 text-red-900 dark:bg-red-900 dark:text-red-100",
};

function accountStateText(account: AccountOverview): string {
  switch (account.state) {
    case "available":
      return account.active > 0
        ? `available (${account.active} of ${account.maxConcurrency} in use)`
        : "available";
    case "busy":
      return `busy ${account.active} of ${account.maxConcurrency}`;
    case "cooling_down": {
      const reason = account.cooldownReason ? ` (${account.cooldownReason.replaceAll("_", " ")})` : "";
      return `cooling down until ${formatTime(account.cooldownUntil)}${reason}`;
    }
    case "dead":
      return `dead: ${account.deadReason ?? "unknown reason"}`;
  }
}

export function AccountStateLabel({ account }: { account: AccountOverview }) {
  return <span className={`${badgeClass} ${STATE_CLASS[account.state]}`}>{accountStateText(account)}</span>;
}
