"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import type { GenerateInput, GenerateResult } from "@/lib/api-types";
import { queryKeys } from "@/lib/query-keys";
import { trpc } from "@/lib/trpc-client";
import { useInvalidate } from "@/lib/use-invalidate";
import { ErrorBanner } from "./error-banner";
import { InputField } from "./input-field";
import { keyStatus } from "./key-row";
import { LabeledField } from "./labeled-field";
import { type Reference, ReferencePicker } from "./reference-picker";
import { SelectField } from "./select-field";
import { buttonClass, fieldClass, panelClass, primaryButtonClass } from "./ui-classes";

const SIZES = ["auto", "1024x1024", "1536x1024", "1024x1536", "2048x2048"] as const;
const QUALITIES = ["auto", "low", "medium", "high"] as const;

type Size = (typeof SIZES)[number];
type Quality = (typeof QUALITIES)[number];

/** The request form; "Send as" a key runs the job through that key's scopes and limits. */
export function PlaygroundForm({ onStarted }: { onStarted: (result: GenerateResult) => void }) {
  const id = useId();
  const invalidate = useInvalidate();
  const [prompt, setPrompt] = useState("");
  const [size, setSize] = useState<Size>("auto");
  const [quality, setQuality] = useState<Quality>("auto");
  const [count, setCount] = useState("1");
  const [references, setReferences] = useState<Reference[]>([]);
  const [sendAs, setSendAs] = useState("");
  const keys = useQuery({ queryKey: queryKeys.keys, queryFn: () => trpc().keys.list.query() });
  const usableKeys = (keys.data ?? []).filter((key) => keyStatus(key, Date.now()) === "enabled");
  const generate = useMutation({
    mutationFn: (input: GenerateInput) => trpc().images.generate.mutate(input),
    onSuccess: (result) => {
      onStarted(result);
      // A new job in the history and the queue, and an `image.generate` audit entry. Not awaited: none of
      // these is on this page, so the button need not wait for their refetches.
      void invalidate(queryKeys.jobs.all, queryKeys.overview, queryKeys.auditAll);
    },
  });

  // A question about the reference images, answered with text (a vision job) instead of drawing.
  const ask = useMutation({
    mutationFn: () =>
      trpc().images.ask.mutate({
        prompt,
        references: references.map(({ name, dataUrl }) => ({ name, dataUrl })),
        ...(sendAs ? { asKeyId: sendAs } : {}),
      }),
    onSuccess: (result) => {
      onStarted(result);
      void invalidate(queryKeys.jobs.all, queryKeys.overview, queryKeys.auditAll);
    },
  });

  function submit(event: FormEvent<HTMLFormElement>): void {
    event.preventDefault();
    generate.mutate({
      prompt,
      size,
      quality,
      // The field may hold anything mid-edit; the request gets a whole number from 1 to 10.
      n: Math.min(10, Math.max(1, Math.trunc(Number(count)) || 1)),
      ...(references.length > 0
        ? { references: references.map(({ name, dataUrl }) => ({ name, dataUrl })) }
        : {}),
      ...(sendAs ? { asKeyId: sendAs } : {}),
    });
  }

  return (
    <form onSubmit={submit} aria-label="Generate images" className={`${panelClass} space-y-4`}>
      <LabeledField id={`${id}-prompt`} label="Prompt">
        <textarea
          id={`${id}-prompt`}
          required
          rows={4}
          value={prompt}
          onChange={(event) => setPrompt(event.target.value)}
          className={fieldClass}
        />
      </LabeledField>
      <div className="grid grid-cols-2 gap-3 md:grid-cols-4">
        <SelectField id={`${id}-size`} label="Size" value={size} options={SIZES} onChange={setSize} />
        <SelectField
          id={`${id}-quality`}
          label="Quality"
          value={quality}
          options={QUALITIES}
          onChange={setQuality}
        />
        <InputField
          id={`${id}-count`}
          label="Count"
          type="number"
          min={1}
          max={10}
          step={1}
          required
          value={count}
          onChange={(event) => setCount(event.target.value)}
        />
        <SelectField
          id={`${id}-as`}
          label="Send as"
          value={sendAs}
          options={[
            { value: "", label: "Admin" },
            ...usableKeys.map((key) => ({ value: key.id, label: key.name })),
          ]}
          onChange={setSendAs}
        />
      </div>
      <ReferencePicker references={references} onChange={setReferences} />
      <ErrorBanner error={generate.error ?? ask.error} title="Not queued" />
      <div className="flex flex-wrap gap-2">
        <button type="submit" className={primaryButtonClass} disabled={generate.isPending || !prompt.trim()}>
          {generate.isPending ? "Queuing…" : "Generate"}
        </button>
        <button
          type="button"
          className={buttonClass}
          disabled={ask.isPending || !prompt.trim() || references.length === 0}
          title="Ask the prompt as a question about the reference images; the answer is text"
          onClick={() => ask.mutate()}
        >
          {ask.isPending ? "Asking…" : "Ask about the images"}
        </button>
      </div>
    </form>
  );
}
