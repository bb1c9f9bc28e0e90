import Link from "next/link";
import type { JobSummary } from "@/lib/api-types";
import { formatTime } from "@/lib/format-time";
import { DataTable } from "./data-table";
import { StateBadge } from "./state-badge";
import { linkClass, tdClass } from "./ui-classes";

const COLUMNS = ["Job", "Created", "State", "Prompt", "Key", "Account", "Images", "Attempts"];

export function jobHref(id: string): string {
  return `/history/job/?id=${encodeURIComponent(id)}`;
}

export function HistoryTable({ items }: { items: JobSummary[] }) {
  return (
    <DataTable columns={COLUMNS}>
      {items.map((job) => (
        <tr key={job.id} data-testid="history-row" data-job-id={job.id}>
          <td className={`${tdClass} font-mono text-xs`}>
            <Link href={jobHref(job.id)} className={linkClass} aria-label={`Details of job ${job.id}`}>
              {job.id}
            </Link>
          </td>
          <td className={`${tdClass} whitespace-nowrap text-xs`}>{formatTime(job.createdAt)}</td>
          <td className={tdClass}>
            <StateBadge state={job.state} />
            {job.errorCode ? (
              <p className="mt-1 font-mono text-xs text-red-700 dark:text-red-400">{job.errorCode}</p>
            ) : null}
          </td>
          <td className={`${tdClass} max-w-xs`}>
            <p className="line-clamp-2 break-words" title={job.prompt}>
              {job.kind === "vision" ? (
                <span className="mr-1 rounded bg-sky-100 px-1 text-xs text-sky-800 dark:bg-sky-900 dark:text-sky-100">
                  vision
                </span>
              ) : null}
              {job.prompt}
            </p>
          </td>
          <td className={`${tdClass} text-xs`}>{job.keyName ?? job.keyId ?? "admin"}</td>
          <td className={`${tdClass} text-xs`}>{job.account ?? "—"}</td>
          <td className={`${tdClass} tabular-nums`}>{job.imageCount}</td>
          <td className={`${tdClass} tabular-nums`}>{job.attemptCount}</td>
        </tr>
      ))}
    </DataTable>
  );
}
