"use client";

import { useMutation } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import type { KeyCreateInput, KeyLimitsInput, KeyScope } from "@/lib/api-types";
import { DEFAULT_KEY_SCOPES, KEY_SCOPES } from "@/lib/key-scopes";
import { queryKeys } from "@/lib/query-keys";
import { trpc } from "@/lib/trpc-client";
import { useInvalidate } from "@/lib/use-invalidate";
import { ErrorBanner } from "./error-banner";
import { InputField } from "./input-field";
import { buttonClass, fieldClass, labelClass, panelClass, primaryButtonClass } from "./ui-classes";

const LIMIT_FIELDS: Array<{ name: keyof KeyLimitsInput; label: string }> = [
  { name: "requestsPerMinute", label: "Requests/minute" },
  { name: "imagesPerDay", label: "Images/day" },
  { name: "imagesPerMonth", label: "Images/month" },
  { name: "visionPerDay", label: "Vision/day" },
  { name: "visionPerMonth", label: "Vision/month" },
  { name: "maxConcurrentJobs", label: "Concurrent jobs" },
];

type LimitDraft = Record<keyof KeyLimitsInput, string>;

/** Empty = unlimited (null), as the key store reads it. */
function toLimits(draft: LimitDraft): KeyLimitsInput {
  const entries = LIMIT_FIELDS.map(({ name }) => {
    const value = draft[name].trim();
    return [name, value === "" ? null : Number(value)] as const;
  });
  return Object.fromEntries(entries) as KeyLimitsInput;
}

/** The date input is a day in the viewer's zone; the key works until that day ends. */
function toExpiry(day: string): number | null {
  if (!day) return null;
  const end = new Date(`${day}T23:59:59.999`).getTime();
  return Number.isFinite(end) ? end : null;
}

export function KeyCreateForm({
  onCreated,
  onCancel,
}: {
  onCreated: (name: string, rawKey: string) => void;
  onCancel: () => void;
}) {
  const id = useId();
  const invalidate = useInvalidate();
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<KeyScope[]>([...DEFAULT_KEY_SCOPES]);
  const [expires, setExpires] = useState("");
  const [limits, setLimits] = useState<LimitDraft>({
    requestsPerMinute: "",
    imagesPerDay: "",
    imagesPerMonth: "",
    visionPerDay: "",
    visionPerMonth: "",
    maxConcurrentJobs: "",
  });
  const create = useMutation({
    mutationFn: (input: KeyCreateInput) => trpc().keys.create.mutate(input),
    onSuccess: (result) => onCreated(result.key.name, result.rawKey),
    onSettled: () => invalidate(queryKeys.keys, queryKeys.auditAll),
  });

  function toggleScope(scope: KeyScope, checked: boolean): void {
    setScopes((current) =>
      checked
        ? KEY_SCOPES.filter((s) => s === scope || current.includes(s))
        : current.filter((s) => s !== scope),
    );
  }

  function submit(event: FormEvent<HTMLFormElement>): void {
    event.preventDefault();
    create.mutate({ name: name.trim(), scopes, expiresAt: toExpiry(expires), limits: toLimits(limits) });
  }

  return (
    <form onSubmit={submit} aria-label="New key" className={`${panelClass} space-y-4`}>
      <h2 className="font-semibold">New key</h2>
      <div className="grid gap-4 sm:grid-cols-2">
        <InputField
          id={`${id}-name`}
          label="Name"
          required
          maxLength={100}
          value={name}
          onChange={(event) => setName(event.target.value)}
        />
        <InputField
          id={`${id}-expires`}
          label="Expires (optional)"
          type="date"
          value={expires}
          onChange={(event) => setExpires(event.target.value)}
        />
      </div>
      <fieldset>
        <legend className={labelClass}>Scopes</legend>
        <div className="mt-1 flex flex-wrap gap-4">
          {KEY_SCOPES.map((scope) => (
            <label key={scope} className="inline-flex items-center gap-1.5 text-sm">
              <input
                type="checkbox"
                checked={scopes.includes(scope)}
                onChange={(event) => toggleScope(scope, event.target.checked)}
              />
              {scope}
            </label>
          ))}
        </div>
      </fieldset>
      <fieldset>
        <legend className={labelClass}>Limits (empty = unlimited)</legend>
        <div className="mt-1 grid grid-cols-2 gap-3 md:grid-cols-4">
          {LIMIT_FIELDS.map((field) => (
            <div key={field.name}>
              <label
                htmlFor={`${id}-${field.name}`}
                className="block text-xs text-zinc-600 dark:text-zinc-400"
              >
                {field.label}
              </label>
              <input
                id={`${id}-${field.name}`}
                type="number"
                min={1}
                step={1}
                inputMode="numeric"
                placeholder="∞"
                value={limits[field.name]}
                onChange={(event) =>
                  setLimits((current) => ({ ...current, [field.name]: event.target.value }))
                }
                className={fieldClass}
              />
            </div>
          ))}
        </div>
      </fieldset>
      <ErrorBanner error={create.error} title="Key not created" />
      <div className="flex gap-2">
        <button
          type="submit"
          className={primaryButtonClass}
          disabled={create.isPending || scopes.length === 0}
        >
          Create key
        </button>
        <button type="button" className={buttonClass} onClick={onCancel}>
          Discard
        </button>
      </div>
    </form>
  );
}
