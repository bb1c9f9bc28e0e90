"use client";

import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { type ReactNode, useState } from "react";
import { isUnauthorized } from "@/lib/api-error";
import { queryKeys } from "@/lib/query-keys";

function makeQueryClient(): QueryClient {
  // A call refused for a lost session (expired, signed out in another tab) re-checks `auth.me`, and the
  // auth gate then sends the page to the sign-in form.
  const onError = (error: unknown, key?: readonly unknown[]): void => {
    if (!isUnauthorized(error) || key?.[0] === queryKeys.me[0]) return;
    void client.resetQueries({ queryKey: queryKeys.me });
  };
  const client: QueryClient = new QueryClient({
    queryCache: new QueryCache({ onError: (error, query) => onError(error, query.queryKey) }),
    mutationCache: new MutationCache({ onError: (error) => onError(error) }),
    defaultOptions: {
      queries: {
        staleTime: 5_000,
        // Refusals are answers, not glitches: retry only what may be transient.
        retry: (count, error) => count < 2 && !isUnauthorized(error),
      },
    },
  });
  return client;
}

export function Providers({ children }: { children: ReactNode }) {
  const [client] = useState(makeQueryClient);
  return <QueryClientProvider client={client}>{children}</QueryClientProvider>;
}
