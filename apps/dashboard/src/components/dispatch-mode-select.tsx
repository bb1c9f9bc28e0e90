"use client";

import { useMutation } from "@tanstack/react-query";
import { useId } from "react";
import type { DispatchMode } from "@/lib/api-types";
import { DISPATCH_MODE_HINTS, DISPATCH_MODES } from "@/lib/dispatch-modes";
import { queryKeys } from "@/lib/query-keys";
import { trpc } from "@/lib/trpc-client";
import { useInvalidate } from "@/lib/use-invalidate";
import { ErrorBanner } from "./error-banner";
import { SelectField } from "./select-field";
import { panelClass } from "./ui-classes";

/** Applies at once to the running pool and is stored for the next start. */
export function DispatchModeSelect({ value }: { value: DispatchMode }) {
  const id = useId();
  const invalidate = useInvalidate();
  const setMode = useMutation({
    mutationFn: (mode: DispatchMode) => trpc().accounts.setDispatchMode.mutate(mode),
    onSettled: () => invalidate(queryKeys.overview, queryKeys.settings, queryKeys.auditAll),
  });
  const shown = setMode.isPending && setMode.variables ? setMode.variables : value;

  return (
    <section aria-label="Dispatch" className={panelClass}>
      <SelectField
        id={id}
        label="Dispatch mode"
        value={shown}
        options={DISPATCH_MODES}
        disabled={setMode.isPending}
        onChange={(mode) => setMode.mutate(mode)}
      />
      <p className="mt-1 text-xs text-zinc-500">{DISPATCH_MODE_HINTS[shown]}</p>
      <div className="mt-2">
        <ErrorBanner error={setMode.error} />
      </div>
    </section>
  );
}
