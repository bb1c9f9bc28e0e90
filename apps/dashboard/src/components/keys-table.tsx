"use client";

import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import type { KeyWithUsage } from "@/lib/api-types";
import { queryKeys } from "@/lib/query-keys";
import { trpc } from "@/lib/trpc-client";
import { useInvalidate } from "@/lib/use-invalidate";
import { useNow } from "@/lib/use-now";
import { ConfirmDialog } from "./confirm-dialog";
import { DataTable, type DataTableColumn } from "./data-table";
import { ErrorBanner } from "./error-banner";
import { KeyRow } from "./key-row";

type Pending = { action: "rotate" | "delete"; key: KeyWithUsage } | null;

const COLUMNS: DataTableColumn[] = [
  "Name",
  "Prefix",
  "Scopes",
  "Status",
  "Usage / limit",
  "Images 30 d",
  "Last used",
  "Created",
  { srOnly: "Actions" },
];

/** The keys with their row actions; rotate and delete ask first, since neither can be undone. */
export function KeysTable({
  keys,
  onRotated,
}: {
  keys: KeyWithUsage[];
  onRotated: (name: string, rawKey: string) => void;
}) {
  const now = useNow(30_000);
  const invalidate = useInvalidate();
  const [pending, setPending] = useState<Pending>(null);
  const refresh = () => invalidate(queryKeys.keys, queryKeys.auditAll);

  const setEnabled = useMutation({
    mutationFn: (input: { id: string; enabled: boolean }) => trpc().keys.setEnabled.mutate(input),
    onSettled: refresh,
  });
  const rotate = useMutation({
    mutationFn: (id: string) => trpc().keys.rotate.mutate({ id }),
    onSuccess: (result) => onRotated(result.key.name, result.rawKey),
    onSettled: refresh,
  });
  const remove = useMutation({
    mutationFn: (id: string) => trpc().keys.delete.mutate({ id }),
    onSettled: refresh,
  });

  function confirm(): void {
    if (!pending) return;
    const mutation = pending.action === "rotate" ? rotate : remove;
    mutation.mutate(pending.key.id, { onSettled: () => setPending(null) });
  }

  return (
    <>
      <ErrorBanner error={setEnabled.error ?? rotate.error ?? remove.error} />
      <DataTable columns={COLUMNS}>
        {keys.map((key) => (
          <KeyRow
            key={key.id}
            apiKey={key}
            now={now}
            busy={setEnabled.isPending && setEnabled.variables?.id === key.id}
            onToggle={() => setEnabled.mutate({ id: key.id, enabled: !key.enabled })}
            onRotate={() => setPending({ action: "rotate", key })}
            onDelete={() => setPending({ action: "delete", key })}
          />
        ))}
      </DataTable>
      <ConfirmDialog
        open={pending !== null}
        title={pending ? `${pending.action === "rotate" ? "Rotate" : "Delete"} “${pending.key.name}”?` : ""}
        busy={rotate.isPending || remove.isPending}
        onConfirm={confirm}
        onCancel={() => setPending(null)}
      >
        {pending?.action === "rotate"
          ? "A new key is issued at once and the current one stops working. Limits, usage and history stay."
          : "Clients using this key are refused from now on. Its jobs stay in the history under its name."}
      </ConfirmDialog>
    </>
  );
}
