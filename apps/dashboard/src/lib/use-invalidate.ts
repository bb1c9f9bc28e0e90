"use client";

import { type QueryKey, useQueryClient } from "@tanstack/react-query";
import { useCallback } from "react";

/**
 * Marks the given queries stale (prefix match, see query-keys.ts) and resolves once their refetches land,
 * so a mutation's `onSettled` can name what it changed in one line. The function is stable across renders.
 */
export function useInvalidate(): (...keys: QueryKey[]) => Promise<void> {
  const queryClient = useQueryClient();
  return useCallback(
    async (...keys: QueryKey[]) => {
      await Promise.all(keys.map((queryKey) => queryClient.invalidateQueries({ queryKey })));
    },
    [queryClient],
  );
}
