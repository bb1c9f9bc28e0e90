import type { ReactNode } from "react";

/** Label/value pairs in two columns, as the job page lists its facts and each attempt. */
export function DetailList({ children }: { children: ReactNode }) {
  return <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm">{children}</dl>;
}

export function DetailRow({
  label,
  className = "break-words",
  children,
}: {
  label: string;
  className?: string;
  children: ReactNode;
}) {
  return (
    <>
      <dt className="text-zinc-500">{label}</dt>
      <dd className={className}>{children}</dd>
    </>
  );
}
