import type { ComponentProps, ReactNode } from "react";
import { LabeledField } from "./labeled-field";
import { fieldClass } from "./ui-classes";

type InputProps = Omit<ComponentProps<"input">, "id" | "className">;

/** A labelled `<input>`; every other prop goes to the input as given. */
export function InputField({ id, label, ...input }: InputProps & { id: string; label: ReactNode }) {
  return (
    <LabeledField id={id} label={label}>
      <input id={id} className={fieldClass} {...input} />
    </LabeledField>
  );
}
