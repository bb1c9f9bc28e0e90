"use client";

import Image from "next/image";
import { type Dispatch, type DragEvent, type SetStateAction, useId, useState } from "react";
import { MAX_REFERENCES, REFERENCE_TYPES, readDataUrl } from "@/lib/read-data-url";
import { buttonClass, labelClass } from "./ui-classes";

export interface Reference {
  /** Local id for React keys and removal; never sent. */
  id: string;
  name: string;
  dataUrl: string;
}

const ACCEPTED: ReadonlySet<string> = new Set(REFERENCE_TYPES);

/** Reference images by drag-and-drop or a file picker, read in the browser as data: URLs. */
export function ReferencePicker({
  references,
  onChange,
}: {
  references: Reference[];
  /** Takes an updater: files are read asynchronously, so the list may have changed by the time they land. */
  onChange: Dispatch<SetStateAction<Reference[]>>;
}) {
  const inputId = useId();
  const [dragging, setDragging] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  async function add(files: FileList | null): Promise<void> {
    if (!files) return;
    const list = Array.from(files);
    const images = list.filter((file) => ACCEPTED.has(file.type));
    const skipped = list.length - images.length;
    const room = Math.max(0, MAX_REFERENCES - references.length);
    let read: Reference[];
    try {
      read = await Promise.all(
        images.slice(0, room).map(async (file) => ({
          id: `${file.name}-${file.size}-${file.lastModified}-${Math.random().toString(36).slice(2)}`,
          name: file.name,
          dataUrl: await readDataUrl(file),
        })),
      );
    } catch (error) {
      setProblem(`Could not read the file(s): ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    const notes: string[] = [];
    if (skipped > 0) notes.push(`${skipped} file(s) skipped: only PNG, JPEG and WebP are accepted.`);
    if (images.length > room) notes.push(`At most ${MAX_REFERENCES} reference images.`);
    setProblem(notes.length > 0 ? notes.join(" ") : null);
    // Appended to the list as it is now, not as it was when the read began (another drop may have landed).
    onChange((current) => [...current, ...read].slice(0, MAX_REFERENCES));
  }

  function drop(event: DragEvent<HTMLLabelElement>): void {
    event.preventDefault();
    setDragging(false);
    void add(event.dataTransfer.files);
  }

  return (
    <div>
      <span className={labelClass}>Reference images (optional)</span>
      {/*
        The drop zone is the file input's label: clicking it opens the picker, dropping files onto it adds
        them, and the (visually hidden) input inside keeps the keyboard path; the ring shows its focus.
      */}
      <label
        htmlFor={inputId}
        onDragOver={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={drop}
        data-testid="reference-drop-zone"
        className={`mt-1 block cursor-pointer rounded-md border-2 border-dashed p-4 text-center text-sm focus-within:ring-2 focus-within:ring-sky-500 ${
          dragging ? "border-sky-500 bg-sky-50 dark:bg-sky-950" : "border-zinc-300 dark:border-zinc-600"
        }`}
      >
        <span className="text-zinc-600 dark:text-zinc-400">Drop PNG, JPEG or WebP images here, or </span>
        <span className="text-sky-700 underline dark:text-sky-400">choose files</span>
        <input
          id={inputId}
          data-testid="reference-input"
          type="file"
          multiple
          accept={REFERENCE_TYPES.join(",")}
          className="sr-only"
          onChange={(event) => {
            void add(event.target.files);
            event.target.value = "";
          }}
        />
      </label>
      {problem ? <p className="mt-1 text-xs text-amber-700 dark:text-amber-400">{problem}</p> : null}
      {references.length > 0 ? (
        <ul className="mt-2 flex flex-wrap gap-2" aria-label="Reference images">
          {references.map((reference) => (
            <li key={reference.id} className="w-24 text-center">
              <Image
                src={reference.dataUrl}
                alt={reference.name}
                width={96}
                height={96}
                className="h-24 w-24 rounded border border-zinc-300 object-cover dark:border-zinc-600"
              />
              <button
                type="button"
                className={`${buttonClass} mt-1 w-full px-1 py-0.5 text-xs`}
                aria-label={`Remove ${reference.name}`}
                onClick={() => onChange((current) => current.filter((r) => r.id !== reference.id))}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
