import type { AppRouter } from "@codex-img/api";
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink } from "@trpc/client";
import type { ApiClient } from "./api-types";
import { CSRF_HEADER, readCsrfToken } from "./csrf-token";
import { trpcUrl } from "./trpc-url";

let client: ApiClient | undefined;

/**
 * The one tRPC client of the page, made on first use: it reads `window.location`, which does not exist
 * while Next prerenders the static pages.
 */
export function trpc(): ApiClient {
  if (client) return client;
  // The prefix before `/admin` cannot change while the page lives, so the URL is read once.
  const url = trpcUrl();
  client = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        // Same-origin EventSource sends the session cookie by itself.
        true: httpSubscriptionLink({ url }),
        false: httpBatchLink({
          url,
          // Queries go as GET with the input in the URL; long filters get their own request.
          maxURLLength: 4_000,
          // Read per request, so a login in another tab or after a reload is picked up.
          headers: ({ opList }) => {
            if (!opList.some((op) => op.type === "mutation")) return {};
            const token = readCsrfToken();
            return token ? { [CSRF_HEADER]: token } : {};
          },
        }),
      }),
    ],
  });
  return client;
}
