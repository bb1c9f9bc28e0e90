import type { AttemptView } from "@/lib/api-types";
import { formatDuration, formatTime } from "@/lib/format-time";
import { DetailList, DetailRow } from "./detail-list";
import { JsonBlock } from "./json-block";
import { panelClass } from "./ui-classes";

/** One try at the job: where it ran, how long, how it failed, and what the backend printed. */
export function AttemptCard({ attempt }: { attempt: AttemptView }) {
  const upstream = Object.entries(attempt.upstreamIds);
  const diagnostics = Object.entries(attempt.diagnostics);
  return (
    <article
      data-testid="attempt"
      aria-label={`Attempt ${attempt.number}`}
      className={`${panelClass} space-y-2`}
    >
      <h3 className="font-semibold">Attempt {attempt.number}</h3>
      <DetailList>
        <DetailRow label="Account">{attempt.account ?? "—"}</DetailRow>
        <DetailRow label="Backend">{attempt.backend ?? "—"}</DetailRow>
        <DetailRow label="Route">{attempt.route ?? "—"}</DetailRow>
        <DetailRow label="Started">{formatTime(attempt.startedAt)}</DetailRow>
        <DetailRow label="Duration">
          {attempt.durationMs === null ? "still running" : formatDuration(attempt.durationMs)}
        </DetailRow>
        <DetailRow label="Upstream ids" className="break-all font-mono text-xs">
          {upstream.length === 0
            ? "—"
            : upstream.map(([name, value]) => (
                <span key={name} className="block">
                  {name}: {value}
                </span>
              ))}
        </DetailRow>
      </DetailList>
      {attempt.error ? (
        <div className="space-y-1">
          <p className="text-sm text-red-700 dark:text-red-400">
            <code>{attempt.error.code}</code>: {attempt.error.message}
            {attempt.error.retryAfterMs === null
              ? null
              : ` (retry after ${formatDuration(attempt.error.retryAfterMs)})`}
          </p>
          {Object.keys(attempt.error.details).length > 0 ? <JsonBlock value={attempt.error.details} /> : null}
        </div>
      ) : null}
      {diagnostics.map(([name, text]) => (
        <div key={name}>
          <h4 className="text-sm font-medium">{name}</h4>
          <JsonBlock value={text} />
        </div>
      ))}
    </article>
  );
}
