import { formatCount } from "@/lib/format-number";
import { panelClass } from "./ui-classes";

export function QueuePanel({ queued, running }: { queued: number; running: number }) {
  return (
    <section aria-label="Queue" data-testid="queue-depth" className={panelClass}>
      <h2 className="text-sm font-semibold text-zinc-600 dark:text-zinc-300">Queue</h2>
      <dl className="mt-2 flex gap-8">
        <div>
          <dt className="text-xs uppercase text-zinc-500">Queued</dt>
          <dd className="text-2xl font-semibold tabular-nums">{formatCount(queued)}</dd>
        </div>
        <div>
          <dt className="text-xs uppercase text-zinc-500">Running</dt>
          <dd className="text-2xl font-semibold tabular-nums">{formatCount(running)}</dd>
        </div>
      </dl>
    </section>
  );
}
