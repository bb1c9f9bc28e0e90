import { CodexImgError } from "@codex-img/core";
import type { ApiKeyRecord } from "@codex-img/db";
import { z } from "zod";
import type { KeyWithUsage } from "../../services/admin-views.js";
import { keyUsageViews } from "../../services/key-limits.js";
import { keyCreateInput, keyId, keyUpdateInput } from "../schemas.js";
import { adminProcedure, auditAdmin } from "../trpc.js";

/** API keys. The raw key leaves the server only in the reply of `create` and `rotate`. */
export const keysRouter = {
  /** Every key with its standing against its limits (`usage`). */
  list: adminProcedure.query(async ({ ctx }): Promise<KeyWithUsage[]> => {
    const keys = await ctx.services.keys.list();
    const usage = await keyUsageViews(ctx.services, keys);
    return keys.flatMap((key) => {
      const view = usage.get(key.id);
      return view ? [{ ...key, usage: view }] : [];
    });
  }),

  create: adminProcedure.input(keyCreateInput).mutation(async ({ ctx, input }) => {
    const { key, rawKey } = await ctx.services.keys.create({
      name: input.name,
      scopes: input.scopes,
      expiresAt: input.expiresAt ?? null,
      ...(input.limits ? { limits: input.limits } : {}),
    });
    await auditAdmin(ctx, "key.create", { type: "key", id: key.id }, describe(key));
    return { key, rawKey };
  }),

  update: adminProcedure.input(keyUpdateInput).mutation(async ({ ctx, input }) => {
    const { id, ...patch } = input;
    const key = await ctx.services.keys.update(id, {
      ...(patch.name === undefined ? {} : { name: patch.name }),
      ...(patch.scopes === undefined ? {} : { scopes: patch.scopes }),
      ...(patch.expiresAt === undefined ? {} : { expiresAt: patch.expiresAt }),
      ...(patch.limits === undefined ? {} : { limits: patch.limits }),
    });
    await auditAdmin(ctx, "key.update", { type: "key", id }, { changed: Object.keys(patch) });
    return key;
  }),

  setEnabled: adminProcedure
    .input(z.object({ id: keyId, enabled: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      const key = await ctx.services.keys.setEnabled(input.id, input.enabled);
      await auditAdmin(ctx, input.enabled ? "key.enable" : "key.disable", { type: "key", id: input.id });
      return key;
    }),

  rotate: adminProcedure.input(z.object({ id: keyId })).mutation(async ({ ctx, input }) => {
    const { key, rawKey } = await ctx.services.keys.rotate(input.id);
    await auditAdmin(ctx, "key.rotate", { type: "key", id: key.id }, { prefix: key.prefix });
    return { key, rawKey };
  }),

  /** History keeps the key's id and name; only the key itself goes. */
  delete: adminProcedure.input(z.object({ id: keyId })).mutation(async ({ ctx, input }) => {
    const existing = await ctx.services.keys.get(input.id);
    if (!existing || !(await ctx.services.keys.delete(input.id))) {
      throw new CodexImgError("not_found", "No such key.", { details: { param: "id" } });
    }
    await auditAdmin(ctx, "key.delete", { type: "key", id: input.id }, describe(existing));
    return { deleted: true as const };
  }),
};

function describe(key: ApiKeyRecord): Record<string, unknown> {
  return { name: key.name, prefix: key.prefix, scopes: key.scopes, limits: key.limits };
}
