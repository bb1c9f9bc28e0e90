import { accountsRouter } from "./routers/accounts-router.js";
import { auditRouter } from "./routers/audit-router.js";
import { authRouter } from "./routers/auth-router.js";
import { imagesRouter } from "./routers/images-router.js";
import { jobsRouter } from "./routers/jobs-router.js";
import { keysRouter } from "./routers/keys-router.js";
import { maintenanceRouter } from "./routers/maintenance-router.js";
import { settingsRouter } from "./routers/settings-router.js";
import { systemRouter } from "./routers/system-router.js";
import { usageRouter } from "./routers/usage-router.js";
import { createCallerFactory, router } from "./trpc.js";

/** The one tRPC router: a plain object per noun, composed here. */
export const appRouter = router({
  auth: authRouter,
  images: imagesRouter,
  jobs: jobsRouter,
  keys: keysRouter,
  accounts: accountsRouter,
  usage: usageRouter,
  audit: auditRouter,
  settings: settingsRouter,
  system: systemRouter,
  maintenance: maintenanceRouter,
});

export type AppRouter = typeof appRouter;

/** `createCaller(context)` for server-side calls and tests (build the context with `createTrpcContext`). */
export const createCaller = createCallerFactory(appRouter);
