import type { AttemptView } from "@/lib/api-types";
import { formatDuration, formatTime } from "@/lib/format-time";
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
      <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm">
        <dt className="text-zinc-500">Account</dt>
        <dd>{attempt.account ?? "—"}</dd>
        <dt className="text-zinc-500">Backend</dt>
        <dd>{attempt.backend ?? "—"}</dd>
        <dt className="text-zinc-500">Route</dt>
        <dd>{attempt.route ?? "—"}</dd>
        <dt className="text-zinc-500">Started</dt>
        <dd>{formatTime(attempt.startedAt)}</dd>
        <dt className="text-zinc-500">Duration</dt>
        <dd>{attempt.durationMs === null ? "still running" : formatDuration(attempt.durationMs)}</dd>
        <dt className="text-zinc-500">Upstream ids</dt>
        <dd className="break-all font-mono text-xs">
          {upstream.length === 0
            ? "—"
            : upstream.map(([name, value]) => (
                <span key={name} className="block">
                  {name}: {value}
                </span>
              ))}
        </dd>
      </dl>
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
