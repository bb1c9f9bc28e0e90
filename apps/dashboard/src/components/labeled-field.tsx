import type { ReactNode } from "react";
import { labelClass } from "./ui-classes";

/**
 * A label above its control. The control inside must carry the same `id`: that pairing is what lets
 * screen readers (and the e2e test's `getByLabel`) find the control by its label.
 */
export function LabeledField({
  id,
  label,
  className,
  children,
}: {
  id: string;
  label: ReactNode;
  className?: string;
  children: ReactNode;
}) {
  return (
    <div className={className}>
      <label htmlFor={id} className={labelClass}>
        {label}
      </label>
      {children}
    </div>
  );
}
