"use client";

import { type ReactNode, useEffect, useId, useRef } from "react";
import { buttonClass, dangerButtonClass } from "./ui-classes";

/**
 * A yes/no question in a native modal `<dialog>`: `showModal()` traps focus, Escape cancels, and the
 * browser returns focus to the button that opened it.
 */
export function ConfirmDialog({
  open,
  title,
  children,
  busy = false,
  onConfirm,
  onCancel,
}: {
  open: boolean;
  title: string;
  children?: ReactNode;
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const bodyId = useId();

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);

  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      aria-describedby={bodyId}
      onCancel={(event) => {
        // Escape: let React state close it, so `open` stays the single source of truth.
        event.preventDefault();
        onCancel();
      }}
      className="m-auto w-[min(28rem,calc(100vw-2rem))] rounded-lg border border-zinc-300 bg-white p-4 text-zinc-900 shadow-xl dark:border-zinc-600 dark:bg-zinc-900 dark:text-zinc-100"
    >
      <h2 id={titleId} className="text-lg font-semibold">
        {title}
      </h2>
      <div id={bodyId} className="mt-2 text-sm">
        {children}
      </div>
      <div className="mt-4 flex justify-end gap-2">
        <button type="button" className={buttonClass} onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className={dangerButtonClass} onClick={onConfirm} disabled={busy}>
          Confirm
        </button>
      </div>
    </dialog>
  );
}
