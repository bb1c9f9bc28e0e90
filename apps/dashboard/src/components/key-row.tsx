"use client";

import type { KeyWithUsage } from "@/lib/api-types";
import { formatCount } from "@/lib/format-number";
import { formatRelative, formatTime } from "@/lib/format-time";
import { KeyUsage } from "./key-usage";
import { badgeClass, buttonClass, dangerButtonClass, tdClass } from "./ui-classes";

export function keyStatus(key: KeyWithUsage, now: number): "enabled" | "disabled" | "expired" {
  if (!key.enabled) return "disabled";
  if (key.expiresAt !== null && key.expiresAt <= now) return "expired";
  return "enabled";
}

const STATUS_CLASS = {
  enabled: "bg-emerald-100 text-emerald-900 dark:bg-emerald-900 dark:text-emerald-100",
  disabled: "bg-zinc-200 text-zinc-800 dark:bg-zinc-700 dark:text-zinc-100",
  expired: "bg-amber-100 text-amber-900 dark:bg-amber-900 dark:text-amber-100",
} as const;

export function KeyRow({
  apiKey,
  now,
  busy,
  onToggle,
  onRotate,
  onDelete,
}: {
  apiKey: KeyWithUsage;
  now: number;
  busy: boolean;
  onToggle: () => void;
  onRotate: () => void;
  onDelete: () => void;
}) {
  const status = keyStatus(apiKey, now);
  return (
    <tr data-testid="key-row" data-key-name={apiKey.name}>
      <td className={`${tdClass} font-medium`}>{apiKey.name}</td>
      <td className={`${tdClass} font-mono text-xs`}>{apiKey.prefix}…</td>
      <td className={`${tdClass} text-xs`}>{apiKey.scopes.join(", ")}</td>
      <td className={tdClass}>
        <span className={`${badgeClass} ${STATUS_CLASS[status]}`}>{status}</span>
        {apiKey.expiresAt !== null && status !== "expired" ? (
          <p className="mt-1 text-xs text-zinc-500">expires {formatTime(apiKey.expiresAt)}</p>
        ) : null}
      </td>
      <td className={tdClass}>
        <KeyUsage usage={apiKey.usage} />
      </td>
      <td className={`${tdClass} tabular-nums`}>{formatCount(apiKey.usage.last30d.images)}</td>
      <td className={`${tdClass} whitespace-nowrap text-xs`} title={formatTime(apiKey.lastUsedAt)}>
        {apiKey.lastUsedAt === null ? "never" : formatRelative(apiKey.lastUsedAt, now)}
      </td>
      <td className={`${tdClass} whitespace-nowrap text-xs`}>{formatTime(apiKey.createdAt)}</td>
      <td className={tdClass}>
        <div className="flex gap-1">
          <button type="button" className={buttonClass} onClick={onToggle} disabled={busy}>
            {apiKey.enabled ? "Disable" : "Enable"}
          </button>
          <button type="button" className={buttonClass} onClick={onRotate} disabled={busy}>
            Rotate
          </button>
          <button type="button" className={dangerButtonClass} onClick={onDelete} disabled={busy}>
            Delete
          </button>
        </div>
      </td>
    </tr>
  );
}
