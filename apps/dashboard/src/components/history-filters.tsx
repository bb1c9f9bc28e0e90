"use client";

import { useId } from "react";
import type { JobState } from "@/lib/api-types";
import { InputField } from "./input-field";
import { SelectField } from "./select-field";
import { JOB_STATES } from "./state-badge";
import { buttonClass } from "./ui-classes";

export interface HistoryFilterValues {
  state: JobState | "";
  kind: "image" | "vision" | "";
  keyId: string;
  account: string;
  /** `datetime-local` values, in the viewer's zone. */
  from: string;
  to: string;
  text: string;
}

export const NO_FILTERS: HistoryFilterValues = {
  state: "",
  kind: "",
  keyId: "",
  account: "",
  from: "",
  to: "",
  text: "",
};

/** The first choice of each select: no filter on that field. */
const ALL = { value: "", label: "All" } as const;

export function HistoryFilters({
  values,
  keys,
  accounts,
  onChange,
}: {
  values: HistoryFilterValues;
  keys: Array<{ id: string; name: string }>;
  accounts: string[];
  onChange: (next: HistoryFilterValues) => void;
}) {
  const id = useId();
  const set = <K extends keyof HistoryFilterValues>(name: K, value: HistoryFilterValues[K]) =>
    onChange({ ...values, [name]: value });

  return (
    <form
      aria-label="Filter jobs"
      onSubmit={(event) => event.preventDefault()}
      className="grid grid-cols-2 gap-3 md:grid-cols-3 xl:grid-cols-6"
    >
      <SelectField
        id={`${id}-state`}
        label="State"
        value={values.state}
        options={[ALL, ...JOB_STATES]}
        onChange={(state) => set("state", state)}
      />
      <SelectField
        id={`${id}-kind`}
        label="Kind"
        value={values.kind}
        options={[ALL, { value: "image", label: "Images" }, { value: "vision", label: "Vision" }]}
        onChange={(kind) => set("kind", kind)}
      />
      <SelectField
        id={`${id}-key`}
        label="Key"
        value={values.keyId}
        options={[ALL, ...keys.map((key) => ({ value: key.id, label: key.name }))]}
        onChange={(keyId) => set("keyId", keyId)}
      />
      <SelectField
        id={`${id}-account`}
        label="Account"
        value={values.account}
        options={[ALL, ...accounts]}
        onChange={(account) => set("account", account)}
      />
      <InputField
        id={`${id}-from`}
        label="From"
        type="datetime-local"
        value={values.from}
        onChange={(event) => set("from", event.target.value)}
      />
      <InputField
        id={`${id}-to`}
        label="To"
        type="datetime-local"
        value={values.to}
        onChange={(event) => set("to", event.target.value)}
      />
      <InputField
        id={`${id}-text`}
        label="Search prompts"
        type="search"
        value={values.text}
        onChange={(event) => set("text", event.target.value)}
      />
      <div className="col-span-full">
        <button type="button" className={buttonClass} onClick={() => onChange(NO_FILTERS)}>
          Clear filters
        </button>
      </div>
    </form>
  );
}
