import type { AuditEntry } from "@/lib/api-types";
import { formatTime } from "@/lib/format-time";
import { AuditDetails } from "./audit-details";
import { DataTable } from "./data-table";
import { tdClass } from "./ui-classes";

const COLUMNS = ["Time", "Actor", "Action", "Target", "IP", "Details"];

function target(entry: AuditEntry): string {
  if (!entry.targetType) return "—";
  return entry.targetId ? `${entry.targetType} ${entry.targetId}` : entry.targetType;
}

export function AuditTable({ items }: { items: AuditEntry[] }) {
  return (
    <DataTable columns={COLUMNS}>
      {items.map((entry) => (
        <tr key={entry.id} data-testid="audit-row">
          <td className={`${tdClass} whitespace-nowrap text-xs`}>{formatTime(entry.at)}</td>
          <td className={`${tdClass} text-xs`}>{entry.actor}</td>
          <td className={`${tdClass} font-mono text-xs`}>{entry.action}</td>
          <td className={`${tdClass} text-xs`}>{target(entry)}</td>
          <td className={`${tdClass} text-xs`} title={entry.userAgent ?? undefined}>
            {entry.ip ?? "—"}
          </td>
          <td className={`${tdClass} max-w-md`}>
            <AuditDetails details={entry.details} />
          </td>
        </tr>
      ))}
    </DataTable>
  );
}
