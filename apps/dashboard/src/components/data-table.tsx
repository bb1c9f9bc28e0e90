import type { ReactNode } from "react";
import { tableClass, tableWrapClass, thClass } from "./ui-classes";

/** A heading, or `{ srOnly }` for a column with no visible heading that screen readers still name. */
export type DataTableColumn = string | { srOnly: string };

/** The table shell every list page shares: scroll wrapper, one header row from `columns`, the body rows. */
export function DataTable({
  columns,
  children,
}: {
  columns: readonly DataTableColumn[];
  children: ReactNode;
}) {
  return (
    <div className={tableWrapClass}>
      <table className={tableClass}>
        <thead>
          <tr>
            {columns.map((column) => {
              const name = typeof column === "string" ? column : column.srOnly;
              return (
                <th key={name} scope="col" className={thClass}>
                  {typeof column === "string" ? column : <span className="sr-only">{name}</span>}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody className="divide-y divide-zinc-200 dark:divide-zinc-700">{children}</tbody>
      </table>
    </div>
  );
}
