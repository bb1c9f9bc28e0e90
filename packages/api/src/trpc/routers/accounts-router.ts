import { dispatchModeInput } from "../schemas.js";
import { adminProcedure, auditAdmin } from "../trpc.js";

const ACTIVITY_WINDOW_MS = 48 * 3_600_000;

/** The Codex logins: live pool state, the last quota seen per account, and recent activity. */
export const accountsRouter = {
  list: adminProcedure.query(async ({ ctx }) => {
    const { services } = ctx;
    const now = services.clock.now();
    const [quotas, activity, settings] = await Promise.all([
      services.accountUsage.loadQuotaSnapshots(),
      services.accountUsage.accountActivity({ since: now - ACTIVITY_WINDOW_MS, until: now }),
      services.settings.getAll(),
    ]);
    return {
      backend: services.backend,
      dispatchMode: services.pool?.mode ?? settings.dispatchMode,
      accounts: (services.pool?.snapshot() ?? []).map((account) => ({
        ...account,
        quota: account.quota ?? quotas[account.label] ?? null,
        activity: activity[account.label] ?? { images: 0, succeeded: 0, failed: 0 },
      })),
    };
  }),

  /** Stored, so other instances and the next start use it too, and applied to this pool at once. */
  setDispatchMode: adminProcedure.input(dispatchModeInput).mutation(async ({ ctx, input }) => {
    const before = await ctx.services.settings.get("dispatchMode");
    await ctx.services.settings.set("dispatchMode", input);
    ctx.services.pool?.setMode(input);
    await auditAdmin(
      ctx,
      "account.dispatch_mode",
      { type: "setting", id: "dispatchMode" },
      { before, after: input },
    );
    return { dispatchMode: input };
  }),
};
