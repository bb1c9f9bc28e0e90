import { CodexImgError } from "../errors.js";
import { entryBlocker, type PoolEntry } from "./pool-entry.js";

/**
 * Why no account can take a request at `now`: none configured, every one dead (a new login, or no plan
 * with images), or each cooling down or already tried (`retryAfterMs` to the earliest free again).
 */
export function noAccountError(
  entries: readonly PoolEntry[],
  exclude: ReadonlySet<string>,
  now: number,
  minRemainingPercent: number,
): CodexImgError {
  if (entries.length === 0) {
    return new CodexImgError(
      "no_account_available",
      "No account is configured: run `codex login`, or list Codex homes in CODEX_HOMES.",
      { retryable: false },
    );
  }
  const facts = entries.map((e) => ({
    entry: e,
    block: entryBlocker(e, now, minRemainingPercent),
    excluded: exclude.has(e.config.label),
  }));
  const untils = facts.flatMap((f) => (f.block?.kind === "cooling" ? [f.block.until] : []));
  const accounts = facts.map((f) => ({
    label: f.entry.config.label,
    state: f.excluded && !f.block ? "already_tried" : (f.block?.kind ?? "available"),
    ...(f.block?.kind === "cooling" ? { until: f.block.until, reason: f.block.reason } : {}),
    ...(f.block?.kind === "dead" ? { reason: f.block.reason } : {}),
  }));
  if (facts.every((f) => f.block?.kind === "dead")) {
    // Accounts are named by label, never by their folder: this message reaches API callers, and the
    // dashboard shows each label's Codex home to the owner.
    const needLogin = entries.filter((e) => e.dead?.code === "login_required").map((e) => e.config.label);
    if (needLogin.length > 0) {
      return new CodexImgError(
        "login_required",
        `Every account is unusable and ${needLogin.length === 1 ? "account" : "accounts"} ${needLogin.map((l) => `"${l}"`).join(", ")} ` +
          "need a new login: the owner must run `codex login` again for that Codex home (the dashboard names it).",
        { retryable: false, details: { accounts, loginRequired: needLogin } },
      );
    }
    return new CodexImgError(
      "no_account_available",
      "No account's plan includes image generation (usage_not_included).",
      { retryable: false, details: { accounts } },
    );
  }
  const earliest = untils.length > 0 ? Math.min(...untils) : undefined;
  const tried = facts.some((f) => f.excluded && !f.block);
  const message =
    earliest === undefined
      ? "Every account that could serve was already tried for this request."
      : `No account can take this request now${tried ? " (the others were already tried)" : ""}; the earliest is free again at ${new Date(earliest).toISOString()}.`;
  return new CodexImgError("no_account_available", message, {
    ...(earliest === undefined ? {} : { retryAfterMs: Math.max(0, earliest - now) }),
    details: { ...(earliest === undefined ? {} : { resetsAt: earliest }), accounts },
  });
}
