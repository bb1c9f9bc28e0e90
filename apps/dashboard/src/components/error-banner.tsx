"use client";

import { describeError } from "@/lib/api-error";
import { formatDuration } from "@/lib/format-time";
import { buttonClass } from "./ui-classes";

/** A failed call as the server explained it: message, machine code, and when to retry if it said. */
export function ErrorBanner({
  error,
  title,
  onRetry,
}: {
  error: unknown;
  title?: string;
  onRetry?: () => void;
}) {
  if (!error) return null;
  const info = describeError(error);
  return (
    <div
      role="alert"
      data-testid="error-banner"
      className="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-200"
    >
      <p>
        {title ? <strong className="font-semibold">{title}: </strong> : null}
        {info.message} <code className="rounded bg-red-100 px-1 text-xs dark:bg-red-900">{info.code}</code>
        {info.param ? <span> (field: {info.param})</span> : null}
        {info.retryAfterMs !== undefined ? (
          <span> Try again in {formatDuration(info.retryAfterMs)}.</span>
        ) : null}
      </p>
      {onRetry ? (
        <button type="button" className={`${buttonClass} mt-2`} onClick={onRetry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}
