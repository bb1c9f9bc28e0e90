import type { AdminJobView } from "@/lib/api-types";
import { formatDuration, formatTime } from "@/lib/format-time";
import { DetailList, DetailRow } from "./detail-list";
import { JsonBlock } from "./json-block";
import { isFinished, StateBadge } from "./state-badge";
import { panelClass } from "./ui-classes";

const since = (from: number | null, to: number | null): number | null =>
  from === null || to === null ? null : to - from;

/** What was asked, by whom, and how it went. */
export function JobFacts({ job }: { job: AdminJobView }) {
  const { request } = job;
  return (
    <div className="grid gap-3 lg:grid-cols-2">
      <section aria-label="Request" className={panelClass}>
        <h2 className="mb-2 font-semibold">Request</h2>
        <p className="mb-3 whitespace-pre-wrap rounded bg-zinc-100 p-2 text-sm dark:bg-zinc-800">
          {request.prompt}
        </p>
        <DetailList>
          <DetailRow label="Size">{request.size}</DetailRow>
          <DetailRow label="Quality">{request.quality}</DetailRow>
          <DetailRow label="Images (n)">{request.n}</DetailRow>
          <DetailRow label="Format">{request.outputFormat}</DetailRow>
          <DetailRow label="Background">{request.background}</DetailRow>
          <DetailRow label="Model">{request.model}</DetailRow>
          <DetailRow label="References">{request.referenceImages}</DetailRow>
          <DetailRow label="Key">{job.keyName ?? job.keyId ?? "admin"}</DetailRow>
          <DetailRow label="Idempotency key">{job.idempotencyKey ?? "—"}</DetailRow>
        </DetailList>
      </section>
      <section aria-label="Outcome" className={panelClass}>
        <h2 className="mb-2 font-semibold">Outcome</h2>
        <DetailList>
          <DetailRow label="State">
            <StateBadge state={job.state} />
            {job.cancelRequested && !isFinished(job.state) ? " (cancel requested)" : ""}
          </DetailRow>
          <DetailRow label="Progress">
            {job.progress ? `${job.progress.stage} at ${formatTime(job.progress.at)}` : "—"}
          </DetailRow>
          <DetailRow label="Attempts">
            {job.attempts.length} of at most {job.maxAttempts}
          </DetailRow>
          <DetailRow label="Created">{formatTime(job.createdAt)}</DetailRow>
          <DetailRow label="Started">{formatTime(job.startedAt)}</DetailRow>
          <DetailRow label="Finished">{formatTime(job.finishedAt)}</DetailRow>
          <DetailRow label="Waited">{formatDuration(since(job.createdAt, job.startedAt))}</DetailRow>
          <DetailRow label="Ran">{formatDuration(since(job.startedAt, job.finishedAt))}</DetailRow>
          <DetailRow label="Images expire">{formatTime(job.expiresAt)}</DetailRow>
        </DetailList>
        {job.error ? (
          <div className="mt-3 space-y-1">
            <p className="text-sm text-red-700 dark:text-red-400">
              <code>{job.error.code}</code>: {job.error.message}
            </p>
            {Object.keys(job.error.details).length > 0 ? <JsonBlock value={job.error.details} /> : null}
          </div>
        ) : null}
      </section>
    </div>
  );
}
