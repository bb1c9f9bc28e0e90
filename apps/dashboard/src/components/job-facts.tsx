import type { ReactNode } from "react";
import type { AdminJobView } from "@/lib/api-types";
import { formatDuration, formatTime } from "@/lib/format-time";
import { JsonBlock } from "./json-block";
import { StateBadge } from "./state-badge";
import { panelClass } from "./ui-classes";

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <dt className="text-zinc-500">{label}</dt>
      <dd className="break-words">{children}</dd>
    </>
  );
}

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
        <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm">
          <Row label="Size">{request.size}</Row>
          <Row label="Quality">{request.quality}</Row>
          <Row label="Images (n)">{request.n}</Row>
          <Row label="Format">{request.outputFormat}</Row>
          <Row label="Background">{request.background}</Row>
          <Row label="Model">{request.model}</Row>
          <Row label="References">{request.referenceImages}</Row>
          <Row label="Key">{job.keyName ?? job.keyId ?? "admin"}</Row>
          <Row label="Idempotency key">{job.idempotencyKey ?? "—"}</Row>
        </dl>
      </section>
      <section aria-label="Outcome" className={panelClass}>
        <h2 className="mb-2 font-semibold">Outcome</h2>
        <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm">
          <Row label="State">
            <StateBadge state={job.state} />
            {job.cancelRequested && !["canceled", "succeeded", "failed"].includes(job.state)
              ? " (cancel requested)"
              : ""}
          </Row>
          <Row label="Progress">
            {job.progress ? `${job.progress.stage} at ${formatTime(job.progress.at)}` : "—"}
          </Row>
          <Row label="Attempts">
            {job.attempts.length} of at most {job.maxAttempts}
          </Row>
          <Row label="Created">{formatTime(job.createdAt)}</Row>
          <Row label="Started">{formatTime(job.startedAt)}</Row>
          <Row label="Finished">{formatTime(job.finishedAt)}</Row>
          <Row label="Waited">{formatDuration(since(job.createdAt, job.startedAt))}</Row>
          <Row label="Ran">{formatDuration(since(job.startedAt, job.finishedAt))}</Row>
          <Row label="Images expire">{formatTime(job.expiresAt)}</Row>
        </dl>
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
