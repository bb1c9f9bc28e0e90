import { z } from "zod";
import { adminProcedure } from "../trpc.js";

export const auditRouter = {
  /** Newest first, cursor-paged. */
  list: adminProcedure
    .input(
      z
        .object({
          cursor: z.string().max(500).optional(),
          limit: z.number().int().min(1).max(200).optional(),
          action: z.string().max(100).optional(),
          targetType: z.string().max(50).optional(),
          targetId: z.string().max(200).optional(),
          since: z.number().int().nonnegative().optional(),
          until: z.number().int().nonnegative().optional(),
        })
        .default({}),
    )
    .query(async ({ ctx, input }) => {
      const page = await ctx.services.audit.list(input);
      return { items: page.items, nextCursor: page.nextCursor ?? null };
    }),
};
