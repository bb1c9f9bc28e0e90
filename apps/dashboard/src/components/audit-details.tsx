/** An audit entry's details as label/value fields: nested objects flattened to dotted names. */
export function AuditDetails({ details }: { details: Record<string, unknown> | null | undefined }) {
  const fields = flatten(details ?? {});
  if (fields.length === 0) return <>—</>;
  return (
    <dl data-testid="audit-details" className="grid grid-cols-[max-content_1fr] gap-x-2 text-xs">
      {fields.map(([name, value]) => (
        <div key={name} className="contents">
          <dt className="text-zinc-500">{name}</dt>
          <dd className="break-all font-mono">{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function flatten(value: Record<string, unknown>, prefix = ""): Array<[string, string]> {
  return Object.entries(value).flatMap(([key, item]): Array<[string, string]> => {
    const name = prefix ? `${prefix}.${key}` : key;
    if (item !== null && typeof item === "object" && !Array.isArray(item)) {
      return flatten(item as Record<string, unknown>, name);
    }
    if (Array.isArray(item)) return [[name, item.map((part) => String(part)).join(", ") || "—"]];
    return [[name, item === null || item === undefined ? "—" : String(item)]];
  });
}
