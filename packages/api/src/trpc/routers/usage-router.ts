import { utcDay } from "@codex-img/db";
import { z } from "zod";
import { adminProcedure } from "../trpc.js";

const DAY_MS = 86_400_000;

export const usageRouter = {
  /** Totals by key, by account and by day over the last `days` days (UTC), today included. */
  summary: adminProcedure
    .input(z.object({ days: z.number().int().min(1).max(366).default(30) }).default({ days: 30 }))
    .query(async ({ ctx, input }) => {
      const now = ctx.services.clock.now();
      const range = { fromDay: utcDay(now - (input.days - 1) * DAY_MS), toDay: utcDay(now) };
      const { accountUsage } = ctx.services;
      const [byKey, byAccount, byDay] = await Promise.all([
        accountUsage.usageByKey(range),
        accountUsage.usageByAccount(range),
        accountUsage.usageByDay(range),
      ]);
      return { ...range, byKey, byAccount, byDay };
    }),
};
