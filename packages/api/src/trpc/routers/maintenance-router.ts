import { CodexImgError } from "@codex-img/core";
import { adminProcedure, auditAdmin } from "../trpc.js";

export const maintenanceRouter = {
  /** One retention pass now, with what it freed; the scheduled sweep goes on as before. */
  cleanup: adminProcedure.mutation(async ({ ctx }) => {
    const run = ctx.services.runCleanup;
    if (!run) {
      throw new CodexImgError("backend_unavailable", "This server runs no retention sweep.", {
        details: { reason: "no_cleanup" },
      });
    }
    const report = await run();
    await auditAdmin(ctx, "maintenance.cleanup", { type: "setting", id: "retentionDays" }, { ...report });
    return report;
  }),
};
