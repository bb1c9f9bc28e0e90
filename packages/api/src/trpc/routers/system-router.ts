import { buildSystemOverview } from "../../services/system-overview.js";
import { adminProcedure } from "../trpc.js";

/** Default of `ApiOptions.liveOverviewRereadMs`. */
const LIVE_OVERVIEW_REREAD_MS = 5_000;

export const systemRouter = {
  /** The dashboard's overview: backend, queue, and every account's state, quota, login and usage. */
  overview: adminProcedure.query(({ ctx }) => buildSystemOverview(ctx.services)),

  /**
   * The overview now, then again whenever a job changes (queued, started, finished…), so the dashboard
   * follows the server instead of polling it. A read that differs only in its clock is not sent.
   */
  live: adminProcedure.subscription(async function* ({ ctx, signal }) {
    let last = "";
    const timeoutMs = ctx.services.options.liveOverviewRereadMs ?? LIVE_OVERVIEW_REREAD_MS;
    while (!signal?.aborted) {
      // Listening before reading: a change while the read runs, or while the client takes the last
      // overview, is not lost.
      const change = ctx.services.queue.nextChange({
        timeoutMs,
        ...(signal ? { signal } : {}),
      });
      const overview = await buildSystemOverview(ctx.services);
      const { now: _now, ...content } = overview;
      const fingerprint = JSON.stringify(content);
      if (fingerprint !== last) {
        last = fingerprint;
        yield overview;
      }
      await change;
    }
  }),
};
