import { buildSystemOverview } from "../../services/system-overview.js";
import { adminProcedure } from "../trpc.js";

export const systemRouter = {
  /** The dashboard's overview: backend, queue, and every account's state, quota, login and usage. */
  overview: adminProcedure.query(({ ctx }) => buildSystemOverview(ctx.services)),
};
