import type { JobListInput } from "./api-types";

/**
 * Query keys in one place, so a mutation invalidates exactly what it changes. Prefix matching applies:
 * invalidating `jobs.all` refreshes every history page and every job detail.
 */
export const queryKeys = {
  me: ["auth", "me"] as const,
  overview: ["system", "overview"] as const,
  keys: ["keys", "list"] as const,
  jobs: {
    all: ["jobs"] as const,
    lists: ["jobs", "list"] as const,
    list: (input: JobListInput) => ["jobs", "list", input] as const,
    detail: (id: string) => ["jobs", "detail", id] as const,
  },
  audit: (action: string, cursor: string | undefined) => ["audit", "list", action, cursor ?? ""] as const,
  auditAll: ["audit"] as const,
  settings: ["settings"] as const,
  usageAll: ["usage"] as const,
  usage: (days: number) => ["usage", "summary", days] as const,
};
