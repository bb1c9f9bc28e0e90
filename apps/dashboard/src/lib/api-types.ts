import type { AppRouter } from "@codex-img/api";
import type { TRPCClient } from "@trpc/client";

/**
 * Shapes of the server's replies, inferred from `AppRouter` (types only: nothing of the server is bundled).
 * `@trpc/server`'s `inferRouterOutputs` is not resolvable from this app, so they are read off the client.
 */
export type ApiClient = TRPCClient<AppRouter>;

type OutputOf<P> = P extends { query: (...args: never[]) => infer R }
  ? Awaited<R>
  : P extends { mutate: (...args: never[]) => infer R }
    ? Awaited<R>
    : never;

type InputOf<P> = P extends { query: (input: infer I, ...rest: never[]) => unknown }
  ? I
  : P extends { mutate: (input: infer I, ...rest: never[]) => unknown }
    ? I
    : never;

export type SystemOverview = OutputOf<ApiClient["system"]["overview"]>;
export type AccountOverview = SystemOverview["accounts"][number];
export type CodexHomeView = SystemOverview["homes"][number];
export type QuotaWindowView = NonNullable<AccountOverview["quota"]>["windows"][number];
export type DispatchMode = SystemOverview["dispatchMode"];

export type KeyWithUsage = OutputOf<ApiClient["keys"]["list"]>[number];
export type KeyScope = KeyWithUsage["scopes"][number];
export type KeyCreateInput = InputOf<ApiClient["keys"]["create"]>;
export type KeyLimitsInput = NonNullable<KeyCreateInput["limits"]>;

export type GenerateInput = InputOf<ApiClient["images"]["generate"]>;
export type GenerateResult = OutputOf<ApiClient["images"]["generate"]>;

export type JobListInput = NonNullable<InputOf<ApiClient["jobs"]["list"]>>;
export type JobSummary = OutputOf<ApiClient["jobs"]["list"]>["items"][number];
export type JobState = JobSummary["state"];
export type JobDetail = OutputOf<ApiClient["jobs"]["detail"]>;
export type AdminJobView = JobDetail["job"];
export type AttemptView = AdminJobView["attempts"][number];
export type ImageView = AdminJobView["images"][number];

export type UsageSummary = OutputOf<ApiClient["usage"]["summary"]>;
export type UsageTotals = Omit<UsageSummary["byDay"][number], "day">;

export type AuditEntry = OutputOf<ApiClient["audit"]["list"]>["items"][number];

export type Settings = OutputOf<ApiClient["settings"]["get"]>;
export type SettingsPatch = InputOf<ApiClient["settings"]["update"]>;
export type CleanupReport = OutputOf<ApiClient["maintenance"]["cleanup"]>;
