"use client";

import { useState } from "react";

/**
 * A raw API key, shown once after create or rotate. It lives only in the parent's state: never stored,
 * gone on reload. The `raw-key` element's text is exactly the key (select-and-copy and tests read it), so
 * the Copy button draws its label with CSS and is named by `aria-label`.
 */
export function RawKeyBox({
  name,
  rawKey,
  onDismiss,
}: {
  name: string;
  rawKey: string;
  onDismiss: () => void;
}) {
  const [copied, setCopied] = useState<"yes" | "failed" | null>(null);

  async function copy(): Promise<void> {
    try {
      await navigator.clipboard.writeText(rawKey);
      setCopied("yes");
    } catch {
      setCopied("failed");
    }
  }

  return (
    <section
      aria-label="New API key"
      className="rounded-lg border border-amber-300 bg-amber-50 p-4 text-amber-950 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100"
    >
      <p className="text-sm">
        The key for <strong>{name}</strong>. Copy it now: it will not be shown again.
      </p>
      <div data-testid="raw-key" className="mt-2 flex flex-wrap items-center gap-2">
        <code className="break-all rounded bg-white px-2 py-1 font-mono text-sm dark:bg-zinc-900">
          {rawKey}
        </code>
        <button
          type="button"
          aria-label="Copy"
          onClick={() => void copy()}
          className="rounded-md bg-amber-700 px-3 py-1 text-sm font-medium text-white before:content-['Copy'] hover:bg-amber-800"
        />
      </div>
      <p className="mt-2 text-sm" aria-live="polite">
        {copied === "yes" ? "Copied to the clipboard." : null}
        {copied === "failed" ? "Could not copy; select the key and copy it by hand." : null}
      </p>
      <button type="button" onClick={onDismiss} className="mt-1 text-sm underline">
        I have saved it
      </button>
    </section>
  );
}
