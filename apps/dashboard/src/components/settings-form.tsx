"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import type { DispatchMode, Settings, SettingsPatch } from "@/lib/api-types";
import { DISPATCH_MODES } from "@/lib/dispatch-modes";
import { queryKeys } from "@/lib/query-keys";
import { trpc } from "@/lib/trpc-client";
import { useInvalidate } from "@/lib/use-invalidate";
import { ErrorBanner } from "./error-banner";
import { LabeledField } from "./labeled-field";
import { SelectField } from "./select-field";
import { fieldClass, panelClass, primaryButtonClass } from "./ui-classes";

type NumberField =
  | "retentionDays"
  | "cleanupIntervalHours"
  | "limit"
  | "windowHours"
  | "warnPercent"
  | "dangerPercent";

/** Labels and the server's ranges (packages/api schemas.ts), checked here first for a quicker answer. */
const FIELDS: Array<{ name: NumberField; label: string; min: number; max: number }> = [
  { name: "retentionDays", label: "Retention days", min: 1, max: 3650 },
  { name: "cleanupIntervalHours", label: "Cleanup interval hours", min: 1, max: 168 },
  { name: "limit", label: "Usage wall limit (images)", min: 1, max: 1_000_000 },
  { name: "windowHours", label: "Usage wall window hours", min: 1, max: 744 },
  { name: "warnPercent", label: "Warn %", min: 1, max: 100 },
  { name: "dangerPercent", label: "Danger %", min: 1, max: 100 },
];

type Draft = Record<NumberField, string> & { dispatchMode: DispatchMode };

function toDraft(settings: Settings): Draft {
  return {
    dispatchMode: settings.dispatchMode,
    retentionDays: String(settings.retentionDays),
    cleanupIntervalHours: String(settings.cleanupIntervalHours),
    limit: String(settings.usageWall.limit),
    windowHours: String(settings.usageWall.windowHours),
    warnPercent: String(settings.usageWall.warnPercent),
    dangerPercent: String(settings.usageWall.dangerPercent),
  };
}

/** Field errors, or the patch to send. */
function validate(draft: Draft): { errors: Partial<Record<NumberField, string>> } | { patch: SettingsPatch } {
  const errors: Partial<Record<NumberField, string>> = {};
  const values = {} as Record<NumberField, number>;
  for (const field of FIELDS) {
    const value = Number(draft[field.name]);
    if (
      draft[field.name].trim() === "" ||
      !Number.isInteger(value) ||
      value < field.min ||
      value > field.max
    ) {
      errors[field.name] = `A whole number from ${field.min} to ${field.max}.`;
    }
    values[field.name] = value;
  }
  if (!errors.warnPercent && !errors.dangerPercent && values.warnPercent > values.dangerPercent) {
    errors.dangerPercent = "Must be at least the warn %.";
  }
  if (Object.keys(errors).length > 0) return { errors };
  return {
    patch: {
      dispatchMode: draft.dispatchMode,
      retentionDays: values.retentionDays,
      cleanupIntervalHours: values.cleanupIntervalHours,
      usageWall: {
        limit: values.limit,
        windowHours: values.windowHours,
        warnPercent: values.warnPercent,
        dangerPercent: values.dangerPercent,
      },
    },
  };
}

export function SettingsForm({ settings }: { settings: Settings }) {
  const id = useId();
  const queryClient = useQueryClient();
  const invalidate = useInvalidate();
  const [draft, setDraft] = useState<Draft>(() => toDraft(settings));
  const [errors, setErrors] = useState<Partial<Record<NumberField, string>>>({});
  const save = useMutation({
    mutationFn: (patch: SettingsPatch) => trpc().settings.update.mutate(patch),
    onSuccess: (saved) => {
      queryClient.setQueryData(queryKeys.settings, saved);
      setDraft(toDraft(saved));
    },
    onSettled: () => invalidate(queryKeys.overview, queryKeys.auditAll),
  });

  function submit(event: FormEvent<HTMLFormElement>): void {
    event.preventDefault();
    const result = validate(draft);
    if ("errors" in result) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    save.mutate(result.patch);
  }

  return (
    <form onSubmit={submit} noValidate aria-label="Settings" className={`${panelClass} space-y-4`}>
      <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
        {FIELDS.map((field) => (
          <LabeledField key={field.name} id={`${id}-${field.name}`} label={field.label}>
            <input
              id={`${id}-${field.name}`}
              type="number"
              inputMode="numeric"
              min={field.min}
              max={field.max}
              step={1}
              value={draft[field.name]}
              aria-invalid={errors[field.name] ? true : undefined}
              aria-describedby={errors[field.name] ? `${id}-${field.name}-error` : undefined}
              onChange={(event) => setDraft((current) => ({ ...current, [field.name]: event.target.value }))}
              className={fieldClass}
            />
            {errors[field.name] ? (
              <p id={`${id}-${field.name}-error`} className="mt-1 text-xs text-red-700 dark:text-red-400">
                {errors[field.name]}
              </p>
            ) : null}
          </LabeledField>
        ))}
        <SelectField
          id={`${id}-dispatch`}
          label="Dispatch mode"
          value={draft.dispatchMode}
          options={DISPATCH_MODES}
          onChange={(dispatchMode) => setDraft((current) => ({ ...current, dispatchMode }))}
        />
      </div>
      <ErrorBanner error={save.error} title="Not saved" />
      <div className="flex items-center gap-3">
        <button type="submit" className={primaryButtonClass} disabled={save.isPending}>
          Save
        </button>
        <p role="status" className="text-sm text-emerald-700 dark:text-emerald-400">
          {save.isSuccess ? "Saved." : ""}
        </p>
      </div>
    </form>
  );
}
