import { z } from "zod";
import { adminLogin, csrfCookie, sessionCookie } from "../../http/admin-session.js";
import { adminProcedure, auditAdmin, publicProcedure } from "../trpc.js";

/** Admin login: a server-side session in an HttpOnly cookie, and the CSRF token for the page to send back. */
export const authRouter = {
  login: publicProcedure
    .input(z.object({ password: z.string().max(1_000) }))
    .mutation(async ({ ctx, input }) => {
      const { session, token, csrfToken } = await adminLogin(ctx.services, input.password, ctx.info);
      ctx.resHeaders.append("Set-Cookie", sessionCookie(token, { secure: ctx.info.secure }));
      ctx.resHeaders.append("Set-Cookie", csrfCookie(csrfToken, { secure: ctx.info.secure }));
      return { csrfToken, expiresAt: session.expiresAt };
    }),

  /** Ends the session on the server, so a copied cookie stops working too. */
  logout: adminProcedure.mutation(async ({ ctx }) => {
    await ctx.services.sessions.revoke(ctx.admin.token);
    await auditAdmin(ctx, "auth.logout", { type: "session", id: ctx.admin.session.id.slice(0, 12) });
    ctx.resHeaders.append("Set-Cookie", sessionCookie("", { secure: ctx.info.secure, maxAgeSeconds: 0 }));
    ctx.resHeaders.append("Set-Cookie", csrfCookie("", { secure: ctx.info.secure, maxAgeSeconds: 0 }));
    return { ok: true as const };
  }),

  me: adminProcedure.query(({ ctx }) => ({
    createdAt: ctx.admin.session.createdAt,
    expiresAt: ctx.admin.session.expiresAt,
    ip: ctx.admin.session.ip,
  })),
};
