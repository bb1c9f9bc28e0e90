"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { queryKeys } from "./query-keys";
import { trpc } from "./trpc-client";

/**
 * `system.overview`, kept current by the server's `system.live` events (a new overview whenever a job
 * changes) instead of polling. Shared by the overview, accounts and usage pages.
 */
export function useOverview() {
  const queryClient = useQueryClient();
  useEffect(() => {
    const subscription = trpc().system.live.subscribe(undefined, {
      onData: (overview) => {
        queryClient.setQueryData(queryKeys.overview, overview);
        // The day counters move with the same jobs.
        void queryClient.invalidateQueries({ queryKey: queryKeys.usageAll });
      },
    });
    return () => subscription.unsubscribe();
  }, [queryClient]);
  return useQuery({
    queryKey: queryKeys.overview,
    queryFn: () => trpc().system.overview.query(),
    // The subscription sends the overview when it (re)connects and on every change, so the cache is never
    // stale by age: a remount or a focused window must not read it again.
    staleTime: Number.POSITIVE_INFINITY,
    refetchOnWindowFocus: false,
  });
}
