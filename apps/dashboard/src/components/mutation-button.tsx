import type { ReactNode } from "react";
import { buttonClass } from "./ui-classes";

/** Runs a mutation that takes no input; disabled while it is in flight, so a double click sends it once. */
export function MutationButton({
  mutation,
  className = buttonClass,
  children,
}: {
  mutation: { mutate: () => void; isPending: boolean };
  className?: string;
  children: ReactNode;
}) {
  return (
    <button
      type="button"
      className={className}
      onClick={() => mutation.mutate()}
      disabled={mutation.isPending}
    >
      {children}
    </button>
  );
}
