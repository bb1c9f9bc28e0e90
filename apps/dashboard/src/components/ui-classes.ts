/** Shared Tailwind class strings, so buttons, fields and panels look the same on every page. */

export const buttonClass =
  "inline-flex items-center justify-center gap-1 rounded-md border border-zinc-300 bg-white px-3 py-1.5 " +
  "text-sm font-medium text-zinc-800 hover:bg-zinc-100 disabled:cursor-not-allowed disabled:opacity-50 " +
  "dark:border-zinc-600 dark:bg-zinc-800 dark:text-zinc-100 dark:hover:bg-zinc-700";

export const primaryButtonClass =
  "inline-flex items-center justify-center gap-1 rounded-md bg-sky-700 px-3 py-1.5 text-sm font-medium " +
  "text-white hover:bg-sky-800 disabled:cursor-not-allowed disabled:opacity-50 dark:bg-sky-600 dark:hover:bg-sky-500";

export const dangerButtonClass =
  "inline-flex items-center justify-center gap-1 rounded-md bg-red-700 px-3 py-1.5 text-sm font-medium " +
  "text-white hover:bg-red-800 disabled:cursor-not-allowed disabled:opacity-50 dark:bg-red-600 dark:hover:bg-red-500";

export const inputClass =
  "block w-full rounded-md border border-zinc-300 bg-white px-2 py-1.5 text-sm text-zinc-900 " +
  "dark:border-zinc-600 dark:bg-zinc-900 dark:text-zinc-100";

/** A field's control, set just below its label. */
export const fieldClass = `${inputClass} mt-1`;

export const labelClass = "block text-sm font-medium text-zinc-700 dark:text-zinc-300";

export const panelClass =
  "rounded-lg border border-zinc-200 bg-white p-4 shadow-sm dark:border-zinc-700 dark:bg-zinc-900";

export const linkClass = "text-sky-700 underline-offset-2 hover:underline dark:text-sky-400";

/** Tables sit in this wrapper: on a phone they scroll sideways instead of squeezing the page. */
export const tableWrapClass = "overflow-x-auto rounded-lg border border-zinc-200 dark:border-zinc-700";

export const tableClass = "min-w-full divide-y divide-zinc-200 text-left text-sm dark:divide-zinc-700";

export const thClass =
  "whitespace-nowrap bg-zinc-50 px-3 py-2 text-xs font-semibold uppercase tracking-wide text-zinc-600 " +
  "dark:bg-zinc-800 dark:text-zinc-300";

export const tdClass = "px-3 py-2 align-top";

/** A small coloured status pill (job state, account state, key status); the colours come with it. */
export const badgeClass = "inline-block rounded px-2 py-0.5 text-xs font-medium";
