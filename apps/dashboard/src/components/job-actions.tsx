"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import type { AdminJobView, JobSummary } from "@/lib/api-types";
import { queryKeys } from "@/lib/query-keys";
import { trpc } from "@/lib/trpc-client";
import { useInvalidate } from "@/lib/use-invalidate";
import { ConfirmDialog } from "./confirm-dialog";
import { ErrorBanner } from "./error-banner";
import { jobHref } from "./history-table";
import { MutationButton } from "./mutation-button";
import { isFinished } from "./state-badge";
import { dangerButtonClass, primaryButtonClass } from "./ui-classes";

/** Run again (a new job with the same request), cancel while it runs, delete once it is over. */
export function JobActions({ job }: { job: AdminJobView }) {
  const router = useRouter();
  const queryClient = useQueryClient();
  const invalidate = useInvalidate();
  const [confirmingDelete, setConfirmingDelete] = useState(false);
  const finished = isFinished(job.state);
  const refresh = () => invalidate(queryKeys.jobs.all, queryKeys.overview, queryKeys.auditAll);

  const rerun = useMutation({
    mutationFn: () => trpc().jobs.rerun.mutate({ id: job.id }),
    onSuccess: (result) => router.push(jobHref(result.job.id)),
    onSettled: refresh,
  });
  const cancel = useMutation({
    mutationFn: () => trpc().jobs.cancel.mutate({ id: job.id }),
    onSettled: refresh,
  });
  const remove = useMutation({
    mutationFn: () => trpc().jobs.delete.mutate({ id: job.id }),
    onSuccess: () => {
      queryClient.removeQueries({ queryKey: queryKeys.jobs.detail(job.id) });
      // Cached history pages would show the row until their refetch lands; drop it from them now.
      queryClient.setQueriesData<{ items: JobSummary[]; nextCursor: string | null }>(
        { queryKey: queryKeys.jobs.lists },
        (page) => page && { ...page, items: page.items.filter((item) => item.id !== job.id) },
      );
      router.push("/history/");
    },
    onSettled: async () => {
      setConfirmingDelete(false);
      await refresh();
    },
  });

  return (
    <div className="space-y-2">
      <div className="flex flex-wrap gap-2">
        <MutationButton mutation={rerun} className={primaryButtonClass}>
          Run again
        </MutationButton>
        {finished ? (
          <button type="button" className={dangerButtonClass} onClick={() => setConfirmingDelete(true)}>
            Delete
          </button>
        ) : (
          <MutationButton mutation={cancel}>Cancel</MutationButton>
        )}
      </div>
      <ErrorBanner error={rerun.error ?? cancel.error ?? remove.error} />
      <ConfirmDialog
        open={confirmingDelete}
        title="Delete this job?"
        busy={remove.isPending}
        onConfirm={() => remove.mutate()}
        onCancel={() => setConfirmingDelete(false)}
      >
        The job, its events and its image files are removed for good.
      </ConfirmDialog>
    </div>
  );
}
