import type { AnyTRPCRouter, TRPCBuiltRouter } from "@trpc/server";
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

/**
 * The router as a client sees it: the same procedures, inputs, outputs and errors, with the server's
 * context left out. Its declaration then names no server type (database, queue, HTTP framework), so the
 * client's published types can carry it without the server (scripts/release/bundle-types.ts).
 */
function clientView<TRouter extends AnyTRPCRouter>(
  router: TRouter,
): TRPCBuiltRouter<
  {
    ctx: object;
    meta: TRouter["_def"]["_config"]["$types"]["meta"];
    errorShape: TRouter["_def"]["_config"]["$types"]["errorShape"];
    transformer: TRouter["_def"]["_config"]["$types"]["transformer"];
  },
  TRouter["_def"]["record"]
> {
  return router;
}
const clientRouter = clientView(appRouter);

/** The type clients are made with: `createTRPCClient<AppRouter>(…)`. */
export type AppRouter = typeof clientRouter;

/** `createCaller(context)` for server-side calls and tests (build the context with `createTrpcContext`). */
export const createCaller = createCallerFactory(appRouter);
