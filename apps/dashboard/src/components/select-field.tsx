import type { ReactNode } from "react";
import { LabeledField } from "./labeled-field";
import { fieldClass } from "./ui-classes";

/** A plain string is both the value and the text shown. */
export type SelectOption<T extends string> = T | { value: T; label: string };

/** A labelled `<select>` over `options`, so each form lists its choices instead of writing out the markup. */
export function SelectField<T extends string>({
  id,
  label,
  value,
  options,
  onChange,
  disabled,
}: {
  id: string;
  label: ReactNode;
  value: T;
  options: readonly SelectOption<T>[];
  onChange: (value: T) => void;
  disabled?: boolean;
}) {
  return (
    <LabeledField id={id} label={label}>
      <select
        id={id}
        value={value}
        disabled={disabled}
        // The select offers only `options`, so what it reports is one of their values.
        onChange={(event) => onChange(event.target.value as T)}
        className={fieldClass}
      >
        {options.map((option) => {
          const { value: optionValue, label: text } =
            typeof option === "string" ? { value: option, label: option } : option;
          return (
            <option key={optionValue} value={optionValue}>
              {text}
            </option>
          );
        })}
      </select>
    </LabeledField>
  );
}
