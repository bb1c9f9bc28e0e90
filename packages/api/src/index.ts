/** @codex-img/api: the HTTP surface as `(Request) => Response` handlers over shared services. */
export * from "./app-env.js";
export * from "./create-api.js";
export type { ServerBindings } from "./http/admin-session.js";
export type * from "./services/admin-views.js";
export type { JobErrorView, JobEventView, JobView } from "./services/job-views.js";
export * from "./services.js";
export * from "./trpc/index.js";
